/** Escapes text for interpolation into HTML markup (element content and quoted attributes). */
export const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
