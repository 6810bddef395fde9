/**
 * Which project the emulator's store holds. Projects never share a store: with
 * `--project` (the `project` option) the store is that project's and every other
 * project is PERMISSION_DENIED; without it, the first project a call names claims the
 * store for the emulator's life and calls naming any other project are refused the
 * same way (serve another project from another store: a second emulator).
 */
import { StatusError } from './_status.ts';

export class ProjectScope {
  #served: string | undefined;
  readonly #pinned: boolean;
  readonly #fallback: string;

  /** `pinned`: the `project` option; `fallback` names the store's project before any call claimed it. */
  constructor(pinned: string | undefined, fallback: string) {
    this.#served = pinned;
    this.#pinned = pinned !== undefined;
    this.#fallback = fallback;
  }

  /** The project served (the fallback until a call claimed the store). */
  get project(): string {
    return this.#served ?? this.#fallback;
  }

  /** Refuses a call naming another project than the one served; the first call claims the store. */
  check(project: string): void {
    if (this.#served === undefined) this.#served = project;
    if (project === this.#served) return;
    const how = this.#pinned ? 'pinned by --project' : 'claimed by the first call';
    throw new StatusError(
      'PERMISSION_DENIED',
      `Permission denied on project [${project}]: this emulator's store holds project [${this.#served}] (${how}); start another emulator with its own store for another project.`,
    );
  }
}
