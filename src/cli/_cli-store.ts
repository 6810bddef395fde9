/** The store a command acts on, whatever its kind: the operations every adapter (`_store-*.ts`) offers. */
import type { AccessResult, SecretInfo, VersionInfo } from '../local-store/index.ts';
import type { AwsRotationStore } from '../rotation/staged/aws-rotation-store.ts';
import type { RotationStore } from '../rotation/staged/rotation-runner.ts';

export type StoreKind = 'local' | 'gcp' | 'aws';

/** What every store command needs, on every store. */
export interface CliStore {
  readonly kind: StoreKind;
  /** The store as the user named it (a directory, `gcp://PROJECT`, `aws://REGION`), for messages. */
  readonly where: string;
  put(name: string, value: Uint8Array, options?: { ifLatest?: number }): Promise<VersionInfo>;
  access(name: string, version?: string | number): Promise<AccessResult>;
  versions(name: string): Promise<VersionInfo[]>;
  list(): Promise<SecretInfo[]>;
  getSecret(name: string): Promise<SecretInfo>;
  enableVersion(name: string, version: number): Promise<VersionInfo>;
  disableVersion(name: string, version: number): Promise<VersionInfo>;
  destroyVersion(name: string, version: number): Promise<VersionInfo>;
  /** The staged rotation's store (local and Secret Manager); AWS rotates with its staging labels instead (`aws`). */
  readonly rotation: RotationStore | undefined;
  /** On aws://: the store the AWS staged rotation (AWSPENDING, AWSCURRENT, AWSPREVIOUS) runs on. */
  readonly aws?: AwsRotationStore;
  close(): Promise<void>;
}
