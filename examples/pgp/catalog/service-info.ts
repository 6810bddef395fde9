/**
 * What a catalog module says about its service, next to its `secrets`. `keyshift inventory`
 * reads these two exports from every module it finds (see docs/pgp.md).
 */
export interface ServiceInfo {
  /** The service's name as deployed (`PGP_SPLIT2_v1`). */
  readonly name: string;
  /** What the service does, in a few words. */
  readonly role: string;
}
