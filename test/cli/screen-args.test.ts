import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { screenArguments } from '../../src/cli/_screen-args.ts';
import { commands } from '../../src/cli/commands/index.ts';

function usageOf(name: string): string {
  const command = commands.find((c) => c.name === name);
  assert.ok(command, name);
  return command.usage;
}

describe('CLI: arguments are screened out of exit errors (docs/cli.md "Arguments in errors")', () => {
  it('positionals and option values by their placeholder, ignoring case, in one pass', () => {
    const get = usageOf('get');
    assert.equal(screenArguments('secret Sk_Live_1 has no alias ab in the local store /srv/store', ['Sk_Live_1', '--version', 'ab', '--store', '/srv/store'], get), 'secret NAME has no alias V in the local store /srv/store');
    assert.equal(screenArguments('secret SK_LIVE_1 not found', ['sk_live_1'], get), 'secret NAME not found');
    assert.equal(screenArguments('secret NAME version V: 1 of 1', ['NAME', '--version=1'], get), 'secret NAME version V: V of V', 'a placeholder put in is not replaced again');
    assert.equal(screenArguments('secret abcdef: abc', ['abc', '--version', 'abcdef'], get), 'secret V: NAME', 'the longest first');
    assert.equal(screenArguments('a table of tables', ['table'], get), 'a NAME of tables', 'whole arguments only');
  });

  it('unknown options by position, declared option names as typed, paths as typed', () => {
    assert.equal(screenArguments("Unknown option '--sk_live_x'", ['API_KEY', '--sk_live_x'], usageOf('get')), "Unknown option 'argument 2'");
    assert.equal(screenArguments('x --json', ['--json'], usageOf('list')), 'x --json');
    const rotate = usageOf('rotate');
    assert.equal(
      screenArguments('--hook: hooks/partner.mjs for API_KEY, --prefix pk_9', ['API_KEY', '--rotator', 'hook', '--hook', 'hooks/partner.mjs', '--prefix', 'pk_9'], rotate),
      '--hook: hooks/partner.mjs for NAME, --prefix P',
    );
  });

  it('a token given with --token is never shown', () => {
    const token = 'tok_0123456789abcdef';
    const message = `instance refused the token ${token} for NEXT_KEY`;
    assert.equal(screenArguments(message, ['--entry', 'NEXT_KEY', '--instances', 'http://a', '--token', token], usageOf('verify-rotation')), 'instance refused the token T for NAME');
  });
});
