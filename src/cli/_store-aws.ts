/**
 * AWS Secrets Manager as a CLI store: awsRotationStore (src/rotation/staged/) over the
 * official client, which holds the mapping (version N = the N-th version created,
 * `latest` = AWSCURRENT, other names = staging labels; UTF-8 values as SecretString,
 * others as SecretBinary). AWS versions have no state: enable, disable and destroy are
 * refused (move the labels with `keyshift rotate`). Credentials: AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) from the environment, else the SDK's chain.
 */
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { awsRotationStore } from '../rotation/staged/aws-rotation-store.ts';
import type { CliIo } from './_command.ts';
import type { CliStore } from './_cli-store.ts';

export async function openAwsCliStore(region: string, endpoint: string | undefined, io: CliIo): Promise<CliStore> {
  const { AWS_ACCESS_KEY_ID: keyId, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: token } = io.env;
  const credentials = keyId && secret ? { accessKeyId: keyId, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) } : undefined;
  const where = `aws://${region}`;
  const aws = awsRotationStore({
    where,
    clientConfig: { region, ...(endpoint === undefined ? {} : { endpoint }), ...(credentials === undefined ? {} : { credentials }) },
  });

  const stateless = (what: string): Promise<never> =>
    Promise.reject(
      new KeyshiftError(
        ErrorCodes.INVALID_DECLARATION,
        `AWS Secrets Manager versions have no state to ${what}: move the staging labels instead (keyshift rotate NAME --rollback, or --abandon for AWSPENDING)`,
      ),
    );

  return {
    kind: 'aws',
    where,
    put: (name, value, options) => aws.put(name, value, options),
    access: (name, version) => aws.access(name, version),
    versions: (name) => aws.versions(name),
    list: () => aws.list(),
    getSecret: (name) => aws.getSecret(name),
    enableVersion: () => stateless('enable'),
    disableVersion: () => stateless('disable'),
    destroyVersion: () => stateless('destroy'),
    rotation: undefined,
    aws,
    close: () => aws.close(),
  };
}
