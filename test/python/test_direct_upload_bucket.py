"""The Python binding, installed from the built wheel: synthesizes the construct with aws-cdk-lib at the
supported floor and checks the resources that make the architecture."""
import re

import pytest
from aws_cdk import App, Environment, Size, Stack
from aws_cdk.assertions import Match, Template

from cdk_direct_upload import DirectUploadBucket
from upload_stack import UploadStack

ENV = Environment(account="123456789012", region="eu-west-1")
ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool"


def default_template() -> Template:
    stack = Stack(App(), "Default", env=ENV)
    DirectUploadBucket(stack, "Uploads")
    return Template.from_stack(stack)


def typical_template() -> Template:
    return Template.from_stack(UploadStack(App(), "Typical", env=ENV, issuer_url=ISSUER, client_id="client-id"))


def test_default_signer_is_iam_authorized_on_node22():
    template = default_template()
    template.resource_count_is("AWS::ApiGatewayV2::Api", 1)
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Route", {"RouteKey": "POST /uploads", "AuthorizationType": "AWS_IAM"}
    )
    template.has_resource_properties("AWS::Lambda::Function", {"Runtime": "nodejs22.x", "Architectures": ["arm64"]})


def test_default_bucket_is_private_and_served_through_oac():
    template = default_template()
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "AccelerateConfiguration": {"AccelerationStatus": "Enabled"},
        },
    )
    template.resource_count_is("AWS::CloudFront::Distribution", 1)
    template.has_resource_properties(
        "AWS::CloudFront::OriginAccessControl",
        {"OriginAccessControlConfig": Match.object_like({"OriginAccessControlOriginType": "s3"})},
    )


def test_default_queue_has_a_dead_letter_queue():
    template = default_template()
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {"RedrivePolicy": {"deadLetterTargetArn": Match.any_value(), "maxReceiveCount": 5}},
    )


def test_typical_jwt_authorizer_origins_and_worker_grant():
    template = typical_template()
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer",
        {"AuthorizerType": "JWT", "JwtConfiguration": {"Audience": ["client-id"], "Issuer": ISSUER}},
    )
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Route", {"RouteKey": "POST /uploads", "AuthorizationType": "JWT"}
    )
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "CorsConfiguration": {
                "CorsRules": Match.array_with(
                    [Match.object_like({"AllowedOrigins": ["https://app.example.com"]})]
                )
            }
        },
    )
    # The worker may consume the notification queue...
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": Match.string_like_regexp("^Worker")}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Action": Match.array_with(["sqs:ReceiveMessage", "sqs:DeleteMessage"])})]
                )
            },
        },
    )
    # ...and its event source reads that queue with partial batch failures.
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"FunctionName": {"Ref": Match.string_like_regexp("^Worker")}, "FunctionResponseTypes": ["ReportBatchItemFailures"]},
    )


def test_typical_max_file_size_reaches_the_signer():
    template = typical_template()
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({})}, "Runtime": "nodejs22.x"},
    )
    functions = template.find_resources("AWS::Lambda::Function")
    variables = [
        f["Properties"].get("Environment", {}).get("Variables", {}) for f in functions.values()
    ]
    assert any(str(20 * 1024 * 1024) in str(v) for v in variables), variables


def test_prop_validation_error_is_a_python_exception_with_the_same_message():
    stack = Stack(App(), "Invalid", env=ENV)
    message = "maxFileSize must be at most 5 TiB, the largest S3 object (got 6 TiB); use a smaller Size."
    # jsii raises a construct's Error as a RuntimeError carrying the JavaScript message unchanged.
    with pytest.raises(RuntimeError, match=re.escape(f"Invalid DirectUploadBucket props:\n- {message}")):
        DirectUploadBucket(stack, "Uploads", max_file_size=Size.tebibytes(6))


def test_metadata_keys_reach_the_signer_and_the_verifier_and_are_validated():
    stack = Stack(App(), "Metadata", env=ENV)
    DirectUploadBucket(stack, "Uploads", metadata_keys=["album-id", "caption"], allowed_origins=["https://app.example.com"])
    template = Template.from_stack(stack)
    functions = template.find_resources("AWS::Lambda::Function")
    variables = [f["Properties"].get("Environment", {}).get("Variables", {}) for f in functions.values()]
    signer = [v for v in variables if "DIRECT_UPLOAD_PUBLIC_BASE_URL" in v]
    verifier = [v for v in variables if "DIRECT_UPLOAD_VERIFIED_QUEUE_URL" in v]
    assert [v.get("DIRECT_UPLOAD_METADATA_KEYS") for v in signer + verifier] == ["album-id,caption"] * 2, variables
    # Browsers may send the signed x-amz-meta-<key> headers.
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "CorsConfiguration": {
                "CorsRules": Match.array_with(
                    [Match.object_like({"AllowedHeaders": Match.array_with(["x-amz-meta-album-id", "x-amz-meta-caption"])})]
                )
            }
        },
    )
    message = 'metadataKeys must not list "filename"'
    with pytest.raises(RuntimeError, match=re.escape(message)):
        DirectUploadBucket(Stack(App(), "Invalid", env=ENV), "Uploads", metadata_keys=["filename"])
