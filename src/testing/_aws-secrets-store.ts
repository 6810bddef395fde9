/**
 * The in-memory state behind the loopback AWS Secrets Manager endpoint: secrets,
 * their versions and staging labels, and one function per supported operation.
 * Inputs and outputs are the JSON 1.1 bodies of the real API; failures throw
 * `AwsServiceError`, which the server turns into the real error shape.
 */
import { randomBytes, randomUUID } from 'node:crypto';

/** AWS's own limit on SecretString / SecretBinary. */
const MAX_SECRET_BYTES = 65_536;
/** BatchGetSecretValue accepts at most this many ids in SecretIdList. */
const MAX_BATCH_IDS = 20;
const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';

type Json = Record<string, unknown>;

/** A failure in the shape the real service answers: `__type`, `Message`, HTTP status. */
export class AwsServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'AwsServiceError';
  }
}

interface StoredVersion {
  readonly versionId: string;
  readonly secretString: string | undefined;
  readonly secretBinary: Buffer | undefined;
  readonly createdSeconds: number;
}

interface StoredSecret {
  readonly name: string;
  readonly arn: string;
  readonly createdSeconds: number;
  lastChangedSeconds: number;
  readonly versions: Map<string, StoredVersion>;
  /** Staging label -> version id. */
  readonly stages: Map<string, string>;
  /** Tag key -> value (TagResource, UntagResource). */
  readonly tags: Map<string, string>;
}

function nowSeconds(): number {
  return Date.now() / 1000;
}

function text(input: Json, key: string): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AwsServiceError('SerializationException', `${key} must be a string`);
  return value;
}

function required(input: Json, key: string): string {
  const value = text(input, key);
  if (value === undefined || value === '') {
    throw new AwsServiceError('InvalidParameterException', `You must provide a value for ${key}.`);
  }
  return value;
}

export class AwsSecretsStore {
  readonly #secrets = new Map<string, StoredSecret>();

  constructor(
    readonly region: string,
    readonly accountId: string,
  ) {}

  /** Runs one operation by its X-Amz-Target suffix. */
  handle(operation: string, input: Json): Json {
    switch (operation) {
      case 'CreateSecret':
        return this.createSecret(input);
      case 'PutSecretValue':
        return this.putSecretValue(input);
      case 'GetSecretValue':
        return this.getSecretValue(input);
      case 'BatchGetSecretValue':
        return this.batchGetSecretValue(input);
      case 'DescribeSecret':
        return this.describeSecret(input);
      case 'UpdateSecretVersionStage':
        return this.updateSecretVersionStage(input);
      case 'ListSecretVersionIds':
        return this.listSecretVersionIds(input);
      case 'ListSecrets':
        return this.listSecrets(input);
      case 'TagResource':
        return this.tagResource(input);
      case 'UntagResource':
        return this.untagResource(input);
      default:
        throw new AwsServiceError('UnknownOperationException', `Unknown operation ${operation}`);
    }
  }

  createSecret(input: Json): Json {
    const name = required(input, 'Name');
    if (this.#secrets.has(name)) {
      throw new AwsServiceError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    }
    const suffix = randomBytes(4).toString('base64url').slice(0, 6);
    const created = nowSeconds();
    const secret: StoredSecret = {
      name,
      arn: `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${suffix}`,
      createdSeconds: created,
      lastChangedSeconds: created,
      versions: new Map(),
      stages: new Map(),
      tags: new Map(),
    };
    this.#secrets.set(name, secret);
    const hasValue = input.SecretString !== undefined || input.SecretBinary !== undefined;
    const version = hasValue ? this.#addVersion(secret, input, [CURRENT]) : undefined;
    return { ARN: secret.arn, Name: name, ...(version ? { VersionId: version.versionId } : {}) };
  }

  putSecretValue(input: Json): Json {
    const secret = this.#find(required(input, 'SecretId'));
    const stages = Array.isArray(input.VersionStages) ? input.VersionStages.map(String) : [CURRENT];
    const token = text(input, 'ClientRequestToken');
    const existing = token === undefined ? undefined : secret.versions.get(token);
    if (existing !== undefined) {
      // AWS: the same token with the same value is ignored (an idempotent retry); with another value it fails.
      const binary = text(input, 'SecretBinary');
      const sameBinary = binary === undefined ? existing.secretBinary === undefined : existing.secretBinary?.equals(Buffer.from(binary, 'base64')) === true;
      const same = existing.secretString === text(input, 'SecretString') && sameBinary;
      if (!same) {
        throw new AwsServiceError('ResourceExistsException', `A version with VersionId ${token} already exists with a different value; use a new ClientRequestToken.`);
      }
      return { ARN: secret.arn, Name: secret.name, VersionId: existing.versionId, VersionStages: this.#stagesOf(secret, existing.versionId) };
    }
    const version = this.#addVersion(secret, input, stages);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: stages };
  }

  getSecretValue(input: Json): Json {
    const secret = this.#find(required(input, 'SecretId'));
    const versionId = text(input, 'VersionId');
    const stage = text(input, 'VersionStage');
    let version: StoredVersion | undefined;
    if (versionId !== undefined) {
      version = secret.versions.get(versionId);
      if (version && stage !== undefined && secret.stages.get(stage) !== versionId) {
        throw new AwsServiceError(
          'InvalidParameterException',
          'You provided a VersionStage that is not associated to the provided VersionId.',
        );
      }
    } else {
      const id = secret.stages.get(stage ?? CURRENT);
      version = id === undefined ? undefined : secret.versions.get(id);
    }
    if (!version) {
      throw new AwsServiceError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for ${versionId ? `VersionId: ${versionId}` : `staging label: ${stage ?? CURRENT}`}`,
      );
    }
    return this.#valueOf(secret, version);
  }

  batchGetSecretValue(input: Json): Json {
    const ids = input.SecretIdList;
    if (!Array.isArray(ids) || input.Filters !== undefined) {
      throw new AwsServiceError('InvalidParameterException', 'The loopback endpoint supports SecretIdList only.');
    }
    if (ids.length === 0 || ids.length > MAX_BATCH_IDS) {
      throw new AwsServiceError('InvalidParameterException', `SecretIdList must hold 1 to ${MAX_BATCH_IDS} ids.`);
    }
    const values: Json[] = [];
    const errors: Json[] = [];
    for (const id of ids.map(String)) {
      try {
        values.push(this.getSecretValue({ SecretId: id }));
      } catch (error) {
        if (!(error instanceof AwsServiceError)) throw error;
        errors.push({ SecretId: id, ErrorCode: error.type, ErrorMessage: error.message });
      }
    }
    return { SecretValues: values, Errors: errors };
  }

  describeSecret(input: Json): Json {
    const secret = this.#find(required(input, 'SecretId'));
    return {
      ARN: secret.arn,
      Name: secret.name,
      CreatedDate: secret.createdSeconds,
      LastChangedDate: secret.lastChangedSeconds,
      VersionIdsToStages: Object.fromEntries([...secret.versions.keys()].map((id) => [id, this.#stagesOf(secret, id)])),
      ...(secret.tags.size === 0 ? {} : { Tags: [...secret.tags].map(([Key, Value]) => ({ Key, Value })) }),
    };
  }

  /**
   * As AWS: a label attached to another version moves only when RemoveFromVersionId
   * names that version (InvalidParameterException otherwise, which makes the call a
   * compare-and-swap on the label); RemoveFromVersionId must name the version holding
   * the label; AWSCURRENT is moved, never just removed; moving AWSCURRENT hands
   * AWSPREVIOUS to the version it left.
   */
  updateSecretVersionStage(input: Json): Json {
    const secret = this.#find(required(input, 'SecretId'));
    const stage = required(input, 'VersionStage');
    const moveTo = text(input, 'MoveToVersionId');
    const removeFrom = text(input, 'RemoveFromVersionId');
    if (moveTo === undefined && removeFrom === undefined) {
      throw new AwsServiceError('InvalidParameterException', 'You must provide MoveToVersionId or RemoveFromVersionId.');
    }
    const holder = secret.stages.get(stage);
    if (removeFrom !== undefined && holder !== removeFrom) {
      throw new AwsServiceError('InvalidParameterException', `The staging label ${stage} is not attached to version ${removeFrom} (RemoveFromVersionId).`);
    }
    if (moveTo !== undefined && holder !== undefined && holder !== moveTo && holder !== removeFrom) {
      throw new AwsServiceError('InvalidParameterException', `The staging label ${stage} is attached to version ${holder}; name it in RemoveFromVersionId.`);
    }
    if (moveTo === undefined && stage === CURRENT) {
      throw new AwsServiceError('InvalidParameterException', 'You can only move the staging label AWSCURRENT to another version, not remove it.');
    }
    if (moveTo !== undefined) {
      if (!secret.versions.has(moveTo)) {
        throw new AwsServiceError('ResourceNotFoundException', `Secrets Manager can't find the version ${moveTo}.`);
      }
      this.#label(secret, stage, moveTo);
    } else secret.stages.delete(stage);
    secret.lastChangedSeconds = nowSeconds();
    return { ARN: secret.arn, Name: secret.name };
  }

  /** Adds or replaces tags (AWS: at most 50 a secret, keys 1-128 and values 0-256 characters). */
  tagResource(input: Json): Json {
    const secret = this.#find(required(input, 'SecretId'));
    const tags = Array.isArray(input.Tags) ? (input.Tags as unknown[]) : undefined;
    if (tags === undefined) throw new AwsServiceError('InvalidParameterException', 'You must provide a value for Tags.');
    const next = new Map(secret.tags);
    for (const tag of tags) {
      const { Key, Value } = (typeof tag === 'object' && tag !== null ? tag : {}) as { Key?: unknown; Value?: unknown };
      if (typeof Key !== 'string' || Key.length < 1 || Key.length > 128 || Key.startsWith('aws:')) {
        throw new AwsServiceError('InvalidParameterException', 'A tag key must be 1-128 characters and not start with aws:.');
      }
      if (typeof Value !== 'string' || Value.length > 256) throw new AwsServiceError('InvalidParameterException', 'A tag value must be at most 256 characters.');
      next.set(Key, Value);
    }
    if (next.size > 50) throw new AwsServiceError('ValidationException', 'A secret can have at most 50 tags.');
    secret.tags.clear();
    for (const [key, value] of next) secret.tags.set(key, value);
    return {};
  }

  /** Removes tags by key; keys it does not have are ignored, as AWS does. */
  untagResource(input: Json): Json {
    const secret = this.#find(required(input, 'SecretId'));
    if (!Array.isArray(input.TagKeys)) throw new AwsServiceError('InvalidParameterException', 'You must provide a value for TagKeys.');
    for (const key of input.TagKeys) secret.tags.delete(String(key));
    return {};
  }

  listSecretVersionIds(input: Json): Json {
    const secret = this.#find(required(input, 'SecretId'));
    const versions = [...secret.versions.values()].map((v) => ({
      VersionId: v.versionId,
      VersionStages: this.#stagesOf(secret, v.versionId),
      CreatedDate: v.createdSeconds,
    }));
    return { ARN: secret.arn, Name: secret.name, Versions: versions };
  }

  /** Every secret, by name, one page (no filters: the loopback endpoint refuses them). */
  listSecrets(input: Json): Json {
    if (input.Filters !== undefined) throw new AwsServiceError('InvalidParameterException', 'The loopback endpoint supports no Filters.');
    const secrets = [...this.#secrets.values()].sort((a, b) => a.name.localeCompare(b.name));
    return {
      SecretList: secrets.map((secret) => ({
        ARN: secret.arn,
        Name: secret.name,
        CreatedDate: secret.createdSeconds,
        LastChangedDate: secret.lastChangedSeconds,
        SecretVersionsToStages: Object.fromEntries([...secret.versions.keys()].map((id) => [id, this.#stagesOf(secret, id)])),
      })),
    };
  }

  /** A name, a full ARN, or a partial ARN (without the random suffix). */
  #find(secretId: string): StoredSecret {
    const byName = this.#secrets.get(secretId);
    if (byName) return byName;
    for (const secret of this.#secrets.values()) {
      if (secret.arn === secretId || secret.arn.slice(0, -7) === secretId) return secret;
    }
    throw new AwsServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
  }

  #addVersion(secret: StoredSecret, input: Json, stages: readonly string[]): StoredVersion {
    const secretString = text(input, 'SecretString');
    const binary = text(input, 'SecretBinary');
    if ((secretString === undefined) === (binary === undefined)) {
      throw new AwsServiceError('InvalidParameterException', 'You must provide either SecretString or SecretBinary.');
    }
    const secretBinary = binary === undefined ? undefined : Buffer.from(binary, 'base64');
    const size = secretBinary ? secretBinary.length : Buffer.byteLength(secretString ?? '');
    if (size > MAX_SECRET_BYTES) {
      throw new AwsServiceError('InvalidParameterException', `The secret value is larger than ${MAX_SECRET_BYTES} bytes.`);
    }
    const versionId = text(input, 'ClientRequestToken') ?? randomUUID();
    if (secret.versions.has(versionId)) {
      throw new AwsServiceError('ResourceExistsException', `A version with VersionId ${versionId} already exists.`);
    }
    // strictly increasing per secret, as the service's are: two puts in one millisecond still order
    let lastMs = 0;
    for (const v of secret.versions.values()) lastMs = Math.max(lastMs, Math.round(v.createdSeconds * 1000));
    const createdSeconds = Math.max(Math.round(nowSeconds() * 1000), lastMs + 1) / 1000;
    const version: StoredVersion = { versionId, secretString, secretBinary, createdSeconds };
    secret.versions.set(versionId, version);
    for (const stage of stages) this.#label(secret, stage, versionId);
    secret.lastChangedSeconds = version.createdSeconds;
    return version;
  }

  /** Moves a label; moving AWSCURRENT hands AWSPREVIOUS to the old current, as AWS does. */
  #label(secret: StoredSecret, stage: string, versionId: string): void {
    const old = secret.stages.get(stage);
    if (stage === CURRENT && old !== undefined && old !== versionId) secret.stages.set(PREVIOUS, old);
    secret.stages.set(stage, versionId);
  }

  #stagesOf(secret: StoredSecret, versionId: string): string[] {
    return [...secret.stages].filter(([, id]) => id === versionId).map(([stage]) => stage);
  }

  #valueOf(secret: StoredSecret, version: StoredVersion): Json {
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      VersionStages: this.#stagesOf(secret, version.versionId),
      CreatedDate: version.createdSeconds,
      ...(version.secretString === undefined ? {} : { SecretString: version.secretString }),
      ...(version.secretBinary === undefined ? {} : { SecretBinary: version.secretBinary.toString('base64') }),
    };
  }
}
