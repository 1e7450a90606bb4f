/** A tiny element builder: no framework, no innerHTML (every text goes in as a text node). */
type Child = Node | string | number | false | null | undefined;
type Attrs = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

export const h = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] => {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
};

export const append = (el: Node, children: Child[]): void => {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    el.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
};

/**
 * Replaces the children of `el`, keeping the keyboard focus: an element that had focus and carries `data-key` is found
 * again by its key and focused, so a live refresh never throws the user's place away.
 */
export const replace = (el: Element, ...children: Child[]): void => {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && el.contains(active) ? active.dataset.key : undefined;
  el.replaceChildren();
  append(el, children);
  if (key) el.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`)?.focus();
};

/** A `<time>` with its machine-readable value and a title giving the exact instant. */
export const time = (iso: string, text: string): HTMLTimeElement => h('time', { datetime: iso, title: iso }, text);
