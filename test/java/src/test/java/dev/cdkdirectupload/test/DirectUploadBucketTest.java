package dev.cdkdirectupload.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.cdkdirectupload.DirectUploadBucket;
import dev.cdkdirectupload.DirectUploadBucketProps;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.Size;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.assertions.Match;
import software.amazon.awscdk.assertions.Template;

/** The Java binding on aws-cdk-lib at the supported floor: the default and the typical configuration. */
class DirectUploadBucketTest {
    private static final StackProps PROPS = StackProps.builder()
            .env(Environment.builder().account("123456789012").region("eu-west-1").build())
            .build();
    private static final String ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool";

    @Test
    void defaultSignerIsIamAuthorizedAndServedByCloudFront() {
        Stack stack = new Stack(new App(), "Default", PROPS);
        new DirectUploadBucket(stack, "Uploads");
        Template template = Template.fromStack(stack);

        template.hasResourceProperties("AWS::ApiGatewayV2::Route",
                Map.of("RouteKey", "POST /uploads", "AuthorizationType", "AWS_IAM"));
        template.hasResourceProperties("AWS::Lambda::Function", Map.of("Runtime", "nodejs22.x"));
        template.resourceCountIs("AWS::CloudFront::Distribution", 1);
    }

    @Test
    void typicalConfigurationHasJwtOriginsAndTheWorkerGrant() {
        Template template = Template.fromStack(new UploadStack(new App(), "Typical", PROPS, ISSUER, "client-id"));

        template.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", Map.of(
                "AuthorizerType", "JWT",
                "JwtConfiguration", Map.of("Audience", List.of("client-id"), "Issuer", ISSUER)));
        template.hasResourceProperties("AWS::S3::Bucket", Map.of("CorsConfiguration", Map.of("CorsRules",
                Match.arrayWith(List.of(Match.objectLike(Map.of("AllowedOrigins", List.of("https://app.example.com"))))))));
        template.hasResourceProperties("AWS::Lambda::EventSourceMapping", Map.of(
                "FunctionName", Map.of("Ref", Match.stringLikeRegexp("^Worker")),
                "FunctionResponseTypes", List.of("ReportBatchItemFailures")));
    }

    @Test
    void propValidationErrorCarriesTheSameMessage() {
        Stack stack = new Stack(new App(), "Invalid", PROPS);
        DirectUploadBucketProps props = DirectUploadBucketProps.builder().maxFileSize(Size.tebibytes(6)).build();
        RuntimeException error = assertThrows(RuntimeException.class, () -> new DirectUploadBucket(stack, "Uploads", props));
        String expected = "Invalid DirectUploadBucket props:\n"
                + "- maxFileSize must be at most 5 TiB, the largest S3 object (got 6 TiB); use a smaller Size.";
        // jsii appends the JavaScript stack trace after the message, on the next line.
        assertEquals(expected, error.getMessage().split("\nError: ")[0]);
    }
}
