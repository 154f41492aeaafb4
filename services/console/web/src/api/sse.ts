/**
 * A Server-Sent Events parser for a text stream read with fetch (EventSource cannot send the Authorization header
 * the API needs outside loopback). Follows the event-stream format: `event:` names the message, `data:` lines are
 * joined with newlines, a blank line dispatches, `:` lines are comments (the server's keep-alives). Pure.
 */

export interface SseMessage {
  /** `message` when the server named none. */
  readonly event: string;
  readonly data: string;
}

export function createSseParser(onMessage: (message: SseMessage) => void): { push(chunk: string): void } {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  const line = (text: string) => {
    if (text === '') {
      if (data.length > 0) onMessage({ event: event || 'message', data: data.join('\n') });
      event = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  };
  return {
    push(chunk: string) {
      buffer += chunk;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop() ?? '';
      for (const text of lines) line(text);
    },
  };
}
