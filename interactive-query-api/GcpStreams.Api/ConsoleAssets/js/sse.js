// Server-Sent Events read with fetch (EventSource cannot send the bearer token in a header): the live tails of the event stream.
import { problemOf, unreachable } from './api.js';
import { session } from './auth.js';

/** Splits SSE text into frames {event, id, data}; returns the frames and the unfinished rest. Comments (': …') are skipped. */
export function parseFrames(text) {
  const frames = [];
  let rest = text.replace(/\r\n?/g, '\n');
  let end;
  while ((end = rest.indexOf('\n\n')) >= 0) {
    const block = rest.slice(0, end);
    rest = rest.slice(end + 2);
    const frame = { event: 'message', id: null, data: [] };
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (name === 'event') frame.event = value;
      else if (name === 'id') frame.id = value;
      else if (name === 'data') frame.data.push(value);
    }
    if (frame.data.length) frames.push({ event: frame.event, id: frame.id, data: frame.data.join('\n') });
  }
  return { frames, rest };
}

/**
 * Follows a live tail until it ends or signal aborts. Calls onFrame({event, id, data}) with data parsed as JSON. Resolves when the
 * stream ends (the service stopped it: e.g. after an 'overflow' frame), rejects with an ApiError when it could not be opened.
 */
export async function follow(path, { onFrame, signal }) {
  const current = session();
  let response;
  try {
    response = await fetch(path, {
      headers: { Accept: 'text/event-stream', ...(current ? { Authorization: `Bearer ${current.accessToken}` } : {}) },
      cache: 'no-store',
      credentials: 'omit',
      signal,
    });
  } catch (e) {
    if (e?.name === 'AbortError') return;
    throw unreachable();
  }
  if (!response.ok) throw await problemOf(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const { frames, rest } = parseFrames(buffer + value);
      buffer = rest;
      for (const frame of frames) {
        let data = null;
        try {
          data = JSON.parse(frame.data);
        } catch {
          data = frame.data;
        }
        onFrame({ event: frame.event, id: frame.id, data });
      }
    }
  } catch (e) {
    if (e?.name === 'AbortError' || signal?.aborted) return;
    throw unreachable();
  } finally {
    reader.releaseLock?.();
  }
}
