import { stateCommand } from '../_state-command.ts';

/** `keyshift enable NAME VERSION`: undoes `disable` (a destroyed version stays destroyed). */
export const enable = stateCommand('enable', 'enable a disabled version again', 'enableVersion');
