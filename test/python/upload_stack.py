"""The README's Python example: a typical web app's upload stack (the tests synthesize it)."""
# [readme:python]
from aws_cdk import Size, Stack, aws_lambda as lambda_
from aws_cdk.aws_apigatewayv2_authorizers import HttpJwtAuthorizer
from aws_cdk.aws_lambda_event_sources import SqsEventSource
from constructs import Construct

from cdk_direct_upload import DirectUploadBucket


class UploadStack(Stack):
    def __init__(self, scope: Construct, id: str, *, issuer_url: str, client_id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        uploads = DirectUploadBucket(
            self,
            "Uploads",
            authorizer=HttpJwtAuthorizer("Jwt", issuer_url, jwt_audience=[client_id]),
            allowed_origins=["https://app.example.com"],
            max_file_size=Size.mebibytes(20),
        )
        worker = lambda_.Function(
            self,
            "Worker",
            runtime=lambda_.Runtime("nodejs22.x", lambda_.RuntimeFamily.NODEJS, supports_inline_code=True),
            handler="index.handler",
            code=lambda_.Code.from_inline("exports.handler = async () => ({ batchItemFailures: [] });"),
        )
        uploads.grant_consume_uploads(worker)  # consume the queue + read the uploaded objects
        worker.add_event_source(SqsEventSource(uploads.queue, report_batch_item_failures=True))
# [/readme]
