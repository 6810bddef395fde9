import { stateCommand } from '../_state-command.ts';

/** `keyshift destroy NAME VERSION`: irreversible; the version's ciphertext is wiped from disk. */
export const destroy = stateCommand('destroy', 'destroy a version for good (its ciphertext is wiped)', 'destroyVersion');
