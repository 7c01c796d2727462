// A tiny element builder: the UI is plain DOM, and this keeps the panels readable
// without a framework.
type Attributes = Record<string, string | number | boolean | null | undefined>;
type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Element, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child);
  }
}

export function clear(element: Element): void {
  element.replaceChildren();
}

/** DICOM person names use ^ between components; show them the way people read them. */
export function formatPersonName(name: string): string {
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = name.split('^');
  const readable = [prefix, given, middle, family, suffix].map((part) => part.trim()).filter(Boolean).join(' ');
  return readable || 'Anonymous';
}

/** DICOM dates are YYYYMMDD; anything else is shown as it came. */
export function formatDicomDate(date: string): string {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(date.trim());
  return match ? `${match[1]}-${match[2]}-${match[3]}` : date.trim();
}
