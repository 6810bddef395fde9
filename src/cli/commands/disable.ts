import { stateCommand } from '../_state-command.ts';

/** `keyshift disable NAME VERSION`: reads of that version fail until `keyshift enable`. */
export const disable = stateCommand('disable', 'disable a version (reads fail until it is enabled again)', 'disableVersion');
