/**
 * The GCE/Cloud Run metadata server, read with fetch: the project id and the instance id
 * Cloud Run does not put in the environment. Honours GCE_METADATA_HOST (as Google's
 * gcp-metadata does), so tests point it at a local stand-in. Never throws: off Google
 * Cloud (no metadata server), every read resolves undefined within `timeoutMs`.
 */

/** Default wait for the metadata server: on Cloud Run it answers in a few ms. */
export const DEFAULT_METADATA_TIMEOUT_MS = 1_000;

/** `computeMetadata/v1/{path}` as text, or undefined when there is no metadata server or no such key. */
export async function readMetadata(path: string, timeoutMs = DEFAULT_METADATA_TIMEOUT_MS): Promise<string | undefined> {
  const host = process.env.GCE_METADATA_HOST ?? process.env.GCE_METADATA_IP ?? 'metadata.google.internal';
  try {
    const response = await fetch(`http://${host}/computeMetadata/v1/${path}`, {
      headers: { 'Metadata-Flavor': 'Google' },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    // a real metadata server says so; anything else (a captive portal, a proxy) is not one
    if (!response.ok || response.headers.get('metadata-flavor') !== 'Google') {
      await response.body?.cancel();
      return undefined;
    }
    const text = (await response.text()).trim();
    return text === '' || text.length > 1024 ? undefined : text;
  } catch {
    return undefined;
  }
}

/** The project id: the option, GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT, then the metadata server. */
export async function resolveProjectId(given?: string, timeoutMs?: number): Promise<string | undefined> {
  const named = given ?? process.env.GOOGLE_CLOUD_PROJECT ?? process.env.GCLOUD_PROJECT;
  if (named) return named;
  return readMetadata('project/project-id', timeoutMs);
}
