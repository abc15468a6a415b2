// The Go binding, from the module `npx projen package:go` writes to dist/go, on aws-cdk-lib at the
// supported floor. Run with `bash scripts/test-language.sh go`.
package directupload_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdk-direct-upload/cdk-direct-upload-go/cdkdirectupload"
)

func newStack(id string) awscdk.Stack {
	return awscdk.NewStack(awscdk.NewApp(nil), jsii.String(id), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")},
	})
}

func TestDefaultSignerIsIamAuthorizedAndServedByCloudFront(t *testing.T) {
	stack := newStack("Default")
	cdkdirectupload.NewDirectUploadBucket(stack, jsii.String("Uploads"), nil)
	template := assertions.Template_FromStack(stack, nil)

	template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), map[string]interface{}{
		"RouteKey": "POST /uploads", "AuthorizationType": "AWS_IAM",
	})
	template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{"Runtime": "nodejs22.x"})
	template.ResourceCountIs(jsii.String("AWS::CloudFront::Distribution"), jsii.Number(1))
}

func TestOriginsReachTheBucketCors(t *testing.T) {
	stack := newStack("Origins")
	cdkdirectupload.NewDirectUploadBucket(stack, jsii.String("Uploads"), &cdkdirectupload.DirectUploadBucketProps{
		AllowedOrigins: jsii.Strings("https://app.example.com"),
		MaxFileSize:    awscdk.Size_Mebibytes(jsii.Number(20)),
	})
	template := assertions.Template_FromStack(stack, nil)

	template.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]interface{}{
		"CorsConfiguration": map[string]interface{}{
			"CorsRules": assertions.Match_ArrayWith(&[]interface{}{
				assertions.Match_ObjectLike(&map[string]interface{}{"AllowedOrigins": []string{"https://app.example.com"}}),
			}),
		},
	})
}

func TestPropValidationErrorCarriesTheSameMessage(t *testing.T) {
	stack := newStack("Invalid")
	expected := "Invalid DirectUploadBucket props:\n" +
		"- maxFileSize must be at most 5 TiB, the largest S3 object (got 6 TiB); use a smaller Size."
	defer func() {
		recovered := recover()
		err, ok := recovered.(error)
		if !ok {
			t.Fatalf("expected a panic with an error, got %v", recovered)
		}
		// jsii appends the JavaScript stack trace after the message, on the next line.
		if got := strings.Split(err.Error(), "\nError: ")[0]; got != expected {
			t.Fatalf("message:\n%q\nwant:\n%q", got, expected)
		}
	}()
	cdkdirectupload.NewDirectUploadBucket(stack, jsii.String("Uploads"), &cdkdirectupload.DirectUploadBucketProps{
		MaxFileSize: awscdk.Size_Tebibytes(jsii.Number(6)),
	})
}
