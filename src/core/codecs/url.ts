import { type Codec, CodecError, checkCodecOptions } from './codec.ts';

export interface UrlCodecOptions {
  /** Accepted schemes, with the colon. Default ['https:', 'http:']. */
  protocols?: readonly string[];
  /** Accept a user name or password in the URL. Default false. */
  allowCredentials?: boolean;
}

const UNSAFE = /[\0-\x20\x7f]/;

/**
 * An absolute URL, returned as its normalised `href` string (a shared `URL` object
 * could be mutated by one caller under everyone else). "javascript:", "http://" and
 * URLs with whitespace or control characters are refused.
 */
export function url(options: UrlCodecOptions = {}): Codec<string> {
  checkCodecOptions('t.url()', options, { protocols: 'strings', allowCredentials: 'boolean' });
  const protocols = options.protocols ?? ['https:', 'http:'];
  return {
    kind: 'url',
    decode(text) {
      if (UNSAFE.test(text)) throw new CodecError('contains whitespace or control characters');
      let parsed: URL;
      try {
        parsed = new URL(text);
      } catch {
        throw new CodecError('is not an absolute URL');
      }
      if (!protocols.includes(parsed.protocol)) {
        // the scheme is never named: it can be the value itself ("sk_live_abc:..." parses as a scheme)
        throw new CodecError(`has a scheme that is not one of ${protocols.join(' ')}`);
      }
      if (!parsed.hostname && parsed.protocol.startsWith('http')) throw new CodecError('has no host');
      if (!options.allowCredentials && (parsed.username || parsed.password)) {
        throw new CodecError('carries credentials (user:password@); keep them in their own secret');
      }
      return parsed.href;
    },
    display(value) {
      const parsed = new URL(value);
      return `${parsed.protocol}//${parsed.host}`;
    },
  };
}
