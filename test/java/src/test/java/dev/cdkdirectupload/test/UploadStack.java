package dev.cdkdirectupload.test;

// [readme:java]
import java.util.List;

import software.amazon.awscdk.Size;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.aws_apigatewayv2_authorizers.HttpJwtAuthorizer;
import software.amazon.awscdk.services.lambda.Code;
import software.amazon.awscdk.services.lambda.Function;
import software.amazon.awscdk.services.lambda.LambdaRuntimeProps;
import software.amazon.awscdk.services.lambda.Runtime;
import software.amazon.awscdk.services.lambda.RuntimeFamily;
import software.amazon.awscdk.services.lambda.eventsources.SqsEventSource;
import software.constructs.Construct;

import dev.cdkdirectupload.DirectUploadBucket;

public class UploadStack extends Stack {
    public UploadStack(Construct scope, String id, StackProps props, String issuerUrl, String clientId) {
        super(scope, id, props);
        DirectUploadBucket uploads = DirectUploadBucket.Builder.create(this, "Uploads")
                .authorizer(HttpJwtAuthorizer.Builder.create("Jwt", issuerUrl).jwtAudience(List.of(clientId)).build())
                .allowedOrigins(List.of("https://app.example.com"))
                .maxFileSize(Size.mebibytes(20))
                .build();
        Function worker = Function.Builder.create(this, "Worker")
                .runtime(new Runtime("nodejs22.x", RuntimeFamily.NODEJS, LambdaRuntimeProps.builder().supportsInlineCode(true).build()))
                .handler("index.handler")
                .code(Code.fromInline("exports.handler = async () => ({ batchItemFailures: [] });"))
                .build();
        uploads.grantConsumeUploads(worker); // consume the queue + read the uploaded objects
        worker.addEventSource(SqsEventSource.Builder.create(uploads.getQueue()).reportBatchItemFailures(true).build());
    }
}
// [/readme]
