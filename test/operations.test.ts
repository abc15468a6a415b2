/**
 * Abuse limits and operations on the construct: the optional upload quota (DynamoDB), the signer's
 * timeouts, and the CloudWatch alarms.
 */
import { Duration, RemovalPolicy, aws_sns as sns } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { synth } from './util';

const quota = { maxUploads: 50, window: Duration.hours(1) };

describe('uploadQuota', () => {
  test('off by default: no table, no DynamoDB permission, no quota in the signer\'s environment', () => {
    const { template, uploads } = synth();
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    expect(uploads.quotaTable).toBeUndefined();
    expect(JSON.stringify(template.toJSON())).not.toMatch(/dynamodb:|DIRECT_UPLOAD_QUOTA/);
  });

  test('creates an on-demand, encrypted table with PITR and a TTL attribute, retained by default', () => {
    const { template, uploads } = synth({ uploadQuota: quota });
    expect(uploads.quotaTable).toBeDefined();
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      },
    });
  });

  test('follows removalPolicy DESTROY', () => {
    synth({ uploadQuota: quota, removalPolicy: RemovalPolicy.DESTROY }).template
      .hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  test('the signer may only UpdateItem on that table, and is told the quota', () => {
    const { template, stack, uploads } = synth({ uploadQuota: quota });
    const tableArn = stack.resolve(uploads.quotaTable!.tableArn);
    const policies = template.findResources('AWS::IAM::Policy');
    const dynamoStatements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => [st.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
    expect(dynamoStatements).toEqual([{ Action: 'dynamodb:UpdateItem', Effect: 'Allow', Resource: tableArn }]);

    const fn = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('signs direct-to-S3') } }))[0] as any;
    // { "table": <table name>, "maxUploads": 50, "windowSeconds": 3600 }, the name resolved at deploy time.
    expect(fn.Properties.Environment.Variables.DIRECT_UPLOAD_QUOTA).toEqual({
      'Fn::Join': ['', ['{"table":"', stack.resolve(uploads.quotaTable!.tableName), '","maxUploads":50,"windowSeconds":3600}']],
    });
  });

  test.each([
    ['maxUploads zero', { maxUploads: 0, window: Duration.hours(1) }, /uploadQuota\.maxUploads must be an integer from 1 to 1000000 \(got 0\)/],
    ['maxUploads fractional', { maxUploads: 1.5, window: Duration.hours(1) }, /uploadQuota\.maxUploads must be an integer/],
    ['window below a second', { maxUploads: 1, window: Duration.millis(500) }, /uploadQuota\.window must be a whole number of seconds from 1 second to 31 days \(got 500 millis\)/],
    ['window above 31 days', { maxUploads: 1, window: Duration.days(32) }, /uploadQuota\.window must be .*\(got 32 days\)/],
  ])('validation: %s', (_name, uploadQuota, message) => {
    expect(() => synth({ uploadQuota })).toThrow(message);
  });
});

describe('signer timeouts: a hang cannot outlive the request', () => {
  test('the function times out (20 s) before the API integration does (25 s), both within API Gateway\'s 30 s', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('signs direct-to-S3'), Timeout: 20 });
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
    expect(Object.values(integrations).map((i: any) => i.Properties.TimeoutInMillis)).toEqual([25_000]);
  });
});

describe('alarms', () => {
  test('created by default: DLQ not empty, signer errors, API 5xx, API 4xx spike, verifier errors', () => {
    const { template, uploads, stack } = synth();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    expect(uploads.alarms).toHaveLength(5);
    expect(uploads.alarms).toEqual([
      uploads.deadLetterQueueAlarm, uploads.signerErrorsAlarm, uploads.serverErrorsAlarm, uploads.clientErrorsAlarm, uploads.verifierErrorsAlarm,
    ]);

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      Dimensions: [{ Name: 'QueueName', Value: stack.resolve(uploads.deadLetterQueue.queueName) }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Threshold: 0,
      Dimensions: [{ Name: 'FunctionName', Value: stack.resolve(uploads.signerFunction.functionName) }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Threshold: 0,
      Dimensions: [{ Name: 'FunctionName', Value: stack.resolve(uploads.verifierFunction!.functionName) }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      Dimensions: [{ Name: 'ApiId', Value: stack.resolve(uploads.api.apiId) }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway', MetricName: '4xx', Statistic: 'Sum', Period: 300, Threshold: 100,
    });
    // No topic: no actions.
    expect(Object.values(template.findResources('AWS::CloudWatch::Alarm')).every((a: any) => a.Properties.AlarmActions === undefined)).toBe(true);
    template.hasOutput('*', { Description: Match.stringLikeRegexp('CloudWatch alarms') });
  });

  test('alarmTopic: every alarm notifies it on ALARM and OK', () => {
    const { template } = synth((stack) => ({ alarmTopic: new sns.Topic(stack, 'Ops') }));
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[];
    expect(alarms).toHaveLength(5);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([expect.objectContaining({ Ref: expect.stringMatching(/^Ops/) })]);
      expect(a.Properties.OKActions).toEqual([expect.objectContaining({ Ref: expect.stringMatching(/^Ops/) })]);
    }
  });

  test('clientErrorAlarmThreshold sets the 4xx alarm; without the verifier there is no verifier alarm', () => {
    const { template, uploads } = synth({ clientErrorAlarmThreshold: 1000, verifyUploads: false });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: '4xx', Threshold: 1000 });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    expect(uploads.verifierErrorsAlarm).toBeUndefined();
  });

  test('createAlarms: false creates none', () => {
    const { template, uploads } = synth({ createAlarms: false });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(uploads.alarms).toEqual([]);
    expect(uploads.deadLetterQueueAlarm).toBeUndefined();
  });

  test.each([
    ['alarmTopic without alarms', (stack: any) => ({ createAlarms: false, alarmTopic: new sns.Topic(stack, 'T') }), /alarmTopic is set but createAlarms is false; remove one of them/],
    ['threshold without alarms', () => ({ createAlarms: false, clientErrorAlarmThreshold: 5 }), /clientErrorAlarmThreshold is set but createAlarms is false/],
    ['threshold zero', () => ({ clientErrorAlarmThreshold: 0 }), /clientErrorAlarmThreshold must be a positive integer number of 4xx responses per 5 minutes \(got 0\)/],
  ])('validation: %s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
