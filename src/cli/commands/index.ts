import type { Command } from '../_command.ts';
import { agent } from './agent.ts';
import { destroy } from './destroy.ts';
import { disable } from './disable.ts';
import { doctor } from './doctor.ts';
import { emulator } from './emulator.ts';
import { enable } from './enable.ts';
import { fleet } from './fleet.ts';
import { get } from './get.ts';
import { init } from './init.ts';
import { inventory } from './inventory.ts';
import { keyringMigrate } from './keyring-migrate.ts';
import { list } from './list.ts';
import { put } from './put.ts';
import { rotate } from './rotate.ts';
import { run } from './run.ts';
import { serve } from './serve.ts';
import { verifyRotationCommand } from './verify-rotation.ts';
import { versions } from './versions.ts';

/**
 * Every `keyshift` command, in the order `keyshift --help` lists them. To add one, write
 * `commands/NAME.ts` exporting `defineCommand({ name, summary, usage, run })`, import it
 * above and append it below: one line each.
 */
export const commands: Command[] = [
  init,
  put,
  get,
  versions,
  list,
  disable,
  enable,
  destroy,
  doctor,
  inventory,
  emulator,
  serve,
  verifyRotationCommand,
  fleet,
  rotate,
  keyringMigrate,
  agent,
  run,
];
