/**
 * Every secret the PGP_v1 reference names (pgp-platform.md: its service table and its
 * secret categories), whether or not a service row uses it, so `keyshift inventory`
 * covers them all. A module exporting `catalog` (and no `service`) declares known
 * secrets without claiming that any service uses them.
 */
import { defineSecrets } from 'keyshift';
import * as ALL from './secrets.ts';

export const catalog = defineSecrets({ ...ALL });
