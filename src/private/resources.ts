/** Resource defaults every part shares: encrypted, SSL-only queues; a function's own role and log group. */
import { Duration, RemovalPolicy, aws_iam as iam, aws_logs as logs, aws_sqs as sqs } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** What varies between this library's queues. */
export interface SecureQueueOptions {
  readonly retentionPeriod: Duration;
  readonly visibilityTimeout?: Duration;
  /** Redrive here after `maxReceiveCount` receives. */
  readonly deadLetterQueue?: sqs.DeadLetterQueue;
}

/** An SQS queue with SQS-managed encryption that refuses plain-HTTP access. */
export function secureQueue(scope: Construct, id: string, options: SecureQueueOptions): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    ...options,
  });
}

/** A bundled function's own role (assumed by Lambda, nothing attached) and log group (it may write there). */
export function functionRoleAndLogs(scope: Construct, description: string, retention: logs.RetentionDays) {
  const logGroup = new logs.LogGroup(scope, 'LogGroup', { retention, removalPolicy: RemovalPolicy.DESTROY });
  const role = new iam.Role(scope, 'Role', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description,
  });
  logGroup.grantWrite(role);
  return { role, logGroup };
}
