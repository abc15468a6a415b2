import { awscdk, javascript } from 'projen';

/**
 * The oldest aws-cdk-lib that has every L2 this library uses: `S3BucketOrigin.withOriginAccessControl`
 * arrived in 2.156.0. The Lambda runtime is pinned by name (`nodejs22.x`, see lambdaOptions), which
 * needs no newer constant. The devDependency is pinned at the floor so the test suite proves it works.
 */
const CDK_FLOOR = '2.156.0';

/** The `aws-cdk` CLI used by the example app; 3.x cannot read current aws-cdk-lib output. */
const CDK_CLI = '2.1148.1';

/** cdk-nag 2.36.x is the newest line whose peer range (^2.156) includes the floor. */
const CDK_NAG = '2.36.50';

/**
 * The `constructs` that aws-cdk-lib 2.156.0 was built with. A newer floor leaks into the Go binding: with
 * constructs-go 10.5, the floor's aws-cdk-go no longer compiles (`Construct.With` is ambiguous), so a Go user
 * at the floor could not build at all.
 */
const CONSTRUCTS_FLOOR = '10.3.0';

/** integ-tests-alpha is released per aws-cdk-lib minor; this is the newest served whose peer range includes the floor. */
const INTEG_TESTS_ALPHA = '2.154.1-alpha.0';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-direct-upload',
  description:
    'DirectUploadBucket: presigned direct-to-S3 uploads with a signing Lambda, SQS notifications and a CloudFront CDN, secure by default.',
  author: 'cdk-direct-upload maintainers',
  authorAddress: 'maintainers@cdk-direct-upload.dev',
  repositoryUrl: 'https://github.com/cdk-direct-upload/cdk-direct-upload.git',
  keywords: ['cdk', 'aws-cdk', 's3', 'presigned-url', 'upload', 'direct-upload', 'cloudfront', 'sqs', 'uppy'],
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  minNodeVersion: '20.0.0',

  cdkVersion: CDK_FLOOR,
  cdkVersionPinning: false,
  constructsVersion: CONSTRUCTS_FLOOR,
  jsiiVersion: '~6.0.0',

  // jsii targets: JS, Python, Java and Go are built and tested (`.ci/run`); .NET stays configured for the
  // release workflow, but no .NET toolchain is on our build machines.
  publishToPypi: {
    distName: 'cdk-direct-upload',
    module: 'cdk_direct_upload',
  },
  publishToMaven: {
    javaPackage: 'dev.cdkdirectupload',
    mavenGroupId: 'dev.cdk-direct-upload',
    mavenArtifactId: 'cdk-direct-upload',
  },
  publishToNuget: {
    dotNetNamespace: 'CdkDirectUpload',
    packageId: 'CdkDirectUpload',
  },
  publishToGo: {
    moduleName: 'github.com/cdk-direct-upload/cdk-direct-upload-go',
  },

  // Lambda handlers (`src/**/*.lambda.ts`) are bundled at build time into `assets/`;
  // consumers' `cdk synth` needs neither esbuild nor Docker.
  lambdaAutoDiscover: true,
  lambdaOptions: {
    runtime: awscdk.LambdaRuntime.NODEJS_22_X,
    awsSdkConnectionReuse: false,
    bundlingOptions: {
      // The signer's single-upload path uses no SDK (node:crypto SigV4); its other requests are signed
      // by `@smithy/signature-v4`, bundled (ES build) and loaded on first use. AWS API calls (multipart,
      // the verifier) use the AWS SDK v3 clients the nodejs22.x runtime ships, loaded on first use, so
      // they add nothing to the bundle or to the cold start of the hot path.
      externals: ['@aws-sdk/client-s3', '@aws-sdk/client-sqs', '@aws-sdk/client-dynamodb', '@aws-sdk/client-secrets-manager'],
      sourcemap: false,
    },
  },

  devDeps: [
    `aws-cdk@${CDK_CLI}`,
    `cdk-nag@${CDK_NAG}`,
    '@types/aws-lambda@^8.10.164',
    '@aws-sdk/s3-request-presigner@^3.1017.0',
    '@smithy/protocol-http@^5',
    '@smithy/hash-node@^4',
    'tsx@^4',
    // local stack (offline stand-ins for S3 and SQS) and browser tests
    '@20minutes/s3rver@4.0.4',
    // fauxqs 2.x needs Node >= 22.5 (node:sqlite); 1.9.x supports Node 20, which this project builds on.
    'fauxqs@1.9.2',
    '@aws-sdk/client-s3@^3.1017.0',
    '@aws-sdk/client-sqs@^3.1017.0',
    'playwright-core@^1.64.1',
    // benchmarks: the SDK signers the signer is compared with, and a multipart parser for the
    // traditional "app server receives the file" contender
    '@smithy/signature-v4@^5.7.5',
    'busboy@^1.6.0',
    // large-file throughput figure: the SDK's multipart uploader, the Node peer
    '@aws-sdk/lib-storage@^3.1017.0',
    // Uppy compatibility tests drive the real uploader in Chromium; property-based fuzzing of the signer
    '@uppy/core@^6.3.1',
    '@uppy/aws-s3@^6.3.1',
    'fast-check@^4.10.2',
    // optional per-caller upload quota: DynamoDB client (from the Lambda runtime) and a local DynamoDB
    '@aws-sdk/client-dynamodb@^3.1017.0',
    'dynalite@^4.0.0',
    // signed delivery: the signer reads the CloudFront private key from Secrets Manager (client from the Lambda runtime)
    '@aws-sdk/client-secrets-manager@^3.1017.0',
    // integration tests (test/integ): snapshots checked offline, assertions run against a real account
    '@aws-cdk/integ-runner@2.197.10',
    `@aws-cdk/integ-tests-alpha@${INTEG_TESTS_ALPHA}`,
  ],

  jestOptions: {
    // Snapshots are assertions: never rewrite them during a test run (`npx projen test:update` does).
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    passWithNoTests: false,
    jestConfig: {
      testTimeout: 60_000,
    },
  },
  tsconfigDev: {
    include: ['../src/**/*.ts', '../examples/**/*.ts', '../bench/**/*.ts'],
    // The demo page's script is browser code: examples/web/tsconfig.json checks it with the DOM library,
    // which must not leak into the Node code here (Buffer is not a BlobPart under lib.dom).
    exclude: ['node_modules', '../examples/web/demo.ts'],
    compilerOptions: {},
  },
  gitignore: [
    '/examples/cdk.out',
    '/cdk.out',
    '.cdk.staging',
    '/compat/node_modules',
    'test/java/target/',
    'test/templates/out/',
    'test/integ/cdk-integ.out.*',
    '__pycache__',
    'test/__output__/',
  ],
});

// The Lambda handlers and the local stack are bundled or run from source; their SDK imports are devDependencies.
project.eslint?.allowDevDeps('src/signer/**/*.ts');
project.eslint?.allowDevDeps('src/local/**/*.ts');
project.eslint?.allowDevDeps('src/verifier/**/*.ts');
project.eslint?.addLintPattern('bench');
project.eslint?.allowDevDeps('bench/**/*.ts');

for (const p of ['/examples', '/bench', '/.ci', '/docs', '/compat', '/scripts']) {
  project.npmignore?.exclude(p);
}

// projen's default lockfile breaks `npm ci` on a fresh machine: unrs-resolver 1.13.0 lists native
// bindings the registry does not have for most platforms, so npm leaves them out of the lockfile and
// `npm ci` then refuses it. 1.12.2 has every binding; pinning it makes `npm ci` reproducible.
//
// @aws-cdk/asset-awscli-v1: jsii-pacmak writes the installed version into the Go module's go.mod, and the Go
// module proxy does not serve the Go twin of 2.2.296 (the newest on npm); 2.2.292 is served. Same CLI layer.
project.package.addField('overrides', { 'unrs-resolver': '1.12.2', '@aws-cdk/asset-awscli-v1': '2.2.292' });

// Sub-path entry points outside the jsii surface: the typed browser/Node client, the worker helpers and the local stack.
// `exports` serves Node's ESM and CJS resolution; `typesVersions` serves TypeScript's classic resolution.
project.package.addField('exports', {
  '.': { types: './lib/index.d.ts', default: './lib/index.js' },
  './client': { types: './lib/client/index.d.ts', default: './lib/client/index.js' },
  './worker': { types: './lib/worker/index.d.ts', default: './lib/worker/index.js' },
  './local': { types: './lib/local/index.d.ts', default: './lib/local/index.js' },
  './lib/*': './lib/*',
  './.jsii': './.jsii',
  './package.json': './package.json',
});
project.package.addField('typesVersions', {
  '*': { client: ['lib/client/index.d.ts'], worker: ['lib/worker/index.d.ts'], local: ['lib/local/index.d.ts'] },
});

// Minify the Lambda bundles, ES modules first (projen's lambda bundling options have neither): smaller asset,
// faster cold start. esbuild output is deterministic, so the asset hash stays stable.
for (const task of project.tasks.all) {
  if (/^bundle:.*\.lambda$/.test(task.name)) {
    task.steps.forEach((step, i) => {
      if (step.execArgs?.[0] === 'esbuild') {
        // `module` first: the SDK signers' ES builds, which esbuild can tree-shake (smaller than their CJS).
        task.updateStep(i, { ...step, execArgs: [...step.execArgs, '--main-fields=module,main', '--minify', '--legal-comments=none'] });
      }
    });
  }
}

// Tests synthesize the real Lambda asset, so the bundle must exist before jest runs.
const bundle = project.tasks.tryFind('bundle');
if (bundle) {
  project.testTask.prependSpawn(bundle);
}
// The browser tests need Debian's Chromium (playwright-core drives it; no browser download).
project.testTask.prependExec('bash scripts/ensure-chromium.sh');

// The whole upload flow, offline: local S3 and SQS stand-ins, the real signer, a CDN route, a demo page.
project.addTask('demo', {
  description: 'Run the upload flow offline: local S3, SQS, signer API, CDN route and a demo page',
  exec: 'node --import tsx src/local/cli.ts',
  receiveArgs: true,
});
// `npm run demo` runs the CLI itself, not through projen's task runner: that one waits in spawnSync and, killed by
// the SIGTERM or SIGINT npm forwards, would leave the CLI running as an orphan. `exec` replaces npm's shell, so npm's
// one child is the CLI's node process and gets the signal (test/local/cli.test.ts).
project.setScript('demo', 'exec node --import tsx src/local/cli.ts');

// Every `package:<lang>` works on a fresh clone: it bundles the Lambda code and compiles with jsii first,
// unless `.jsii` is newer than everything in src/ (as right after `build` or another `package:<lang>`).
const packagePrepare = project.addTask('package:prepare', {
  description: 'Bundle the Lambda code and compile with jsii, unless .jsii is newer than src/',
  condition: '[ ! -f .jsii ] || [ -n "$(find src .projenrc.ts -newer .jsii -print -quit)" ]',
  steps: [{ spawn: 'pre-compile' }, { spawn: 'compile' }],
});
for (const lang of ['js', 'python', 'java', 'go', 'dotnet']) {
  project.tasks.tryFind(`package:${lang}`)?.prependSpawn(packagePrepare);
}

// `package` builds the JS package (what `npm test` users need); `.ci/run` also builds and tests the Python,
// Java and Go packages (test/python, test/java, test/go); .NET is packaged by the release workflow only.
const packageJs = project.tasks.tryFind('package:js');
if (packageJs) {
  project.packageTask.reset();
  project.packageTask.spawn(packageJs);
}
for (const lang of ['python', 'java', 'go']) {
  project.addTask(`test:${lang}`, {
    description: `Build the ${lang} package and test it (test/${lang}) on aws-cdk-lib ${CDK_FLOOR}`,
    exec: `bash scripts/test-language.sh ${lang}`,
  });
}

// The Lambda functions run on Node 22: the handler unit tests run under it too (Node 22 from the npm registry).
project.addTask('test:node22', {
  description: 'Run the handler unit tests (test/signer, test/verifier) under Node 22, the Lambda runtime',
  steps: [...(bundle ? [{ spawn: bundle.name }] : []), { exec: 'bash scripts/test-node22.sh', receiveArgs: true }],
});

// Templates checked like CloudFormation will: cfn-lint on every configuration the suite synthesizes and on
// the example app, checkov on the example app; findings fixed or acknowledged in test/templates/acknowledged.json.
project.addTask('templates:check', {
  description: 'cfn-lint every synthesized template and the example app; checkov the example app',
  exec: 'bash scripts/check-templates.sh',
});

// Integration tests (test/integ/integ.*.ts). Snapshots are checked offline; `integ` deploys them to the
// account of your AWS credentials, runs the assertions and destroys the stacks.
const INTEG = 'integ-runner --directory test/integ --language typescript --app "tsx {filePath}" --max-workers 1';
const bundleFirst = bundle ? [{ spawn: bundle.name }] : [];
project.addTask('integ:snapshot', {
  description: 'Check the committed integration test snapshots (no AWS account needed)',
  steps: [...bundleFirst, { exec: INTEG, receiveArgs: true }],
});
project.addTask('integ:update', {
  description: 'Regenerate the integration test snapshots without deploying (after an intended template change)',
  steps: [...bundleFirst, { exec: `${INTEG} --dry-run --update-on-failed`, receiveArgs: true }],
});
project.addTask('integ', {
  description: 'Deploy every integration test with your AWS credentials, run its assertions, destroy it, update snapshots',
  steps: [...bundleFirst, { exec: `${INTEG} --force --update-on-failed`, receiveArgs: true }],
});

// Benchmarks (never timed assertions): a table on stdout and bench/results.json.
project.addTask('bench', {
  description: 'Run the benchmarks (bench/): print a table, write bench/results.json',
  steps: [...(bundle ? [{ spawn: bundle.name }] : []), { exec: 'tsx bench/run.ts', receiveArgs: true }],
});

// Main job until the local stack lands: synthesize the example app and say where the template is.
project.addTask('example:synth', {
  description: 'Synthesize the example CDK app (examples/) and print where the template is',
  steps: [
    ...(bundle ? [{ spawn: bundle.name }] : []),
    { exec: 'cdk synth --quiet --output cdk.out', cwd: 'examples' },
    {
      exec: 'echo "Template: $(pwd)/cdk.out/DirectUploadExample.template.json"',
      cwd: 'examples',
    },
  ],
});

// The README's deploy path: build what the app needs (the Lambda bundles), then cdk deploy / destroy.
for (const [verb, what] of [['deploy', 'Deploy'], ['destroy', 'Destroy']] as const) {
  project.addTask(`example:${verb}`, {
    description: `${what} the example CDK app (examples/) with your AWS credentials; arguments go to cdk ${verb}`,
    steps: [...(bundle ? [{ spawn: bundle.name }] : []), { exec: `cdk ${verb}`, cwd: 'examples', receiveArgs: true }],
  });
}

project.synth();
