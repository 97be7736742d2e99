// Building the page: every piece of text goes in as a text node (never as markup), so a hostname or a metadata
// value with HTML in it shows as what it is.

const SVG = 'http://www.w3.org/2000/svg';

/** An element: h('td', {class: 'x', onclick: f}, 'text', child). Tags 'svg:line' etc. are SVG elements. */
export function h(tag, props, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (!svg && (key === 'value' || key === 'checked' || key === 'disabled' || key === 'selected')) {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what {@code el} holds. */
export function replace(el, ...children) {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, children);
  return el;
}

/** "3 min ago" for an epoch-millisecond time; "never" for 0. */
export function ago(millis) {
  if (!millis) return 'never';
  const seconds = Math.max(0, Math.round((Date.now() - millis) / 1000));
  if (seconds < 60) return seconds + ' s ago';
  if (seconds < 3600) return Math.round(seconds / 60) + ' min ago';
  if (seconds < 86400) return Math.round(seconds / 3600) + ' h ago';
  return Math.round(seconds / 86400) + ' d ago';
}

export function time(millis) {
  return millis ? new Date(millis).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '—';
}

/** A message line: kind is 'error', 'ok' or 'note'. */
export function message(kind, text) {
  return h('p', {class: 'message ' + kind, role: kind === 'error' ? 'alert' : 'status'}, text);
}

/** A button that copies {@code text} to the clipboard and says so. */
export function copyButton(text, label = 'Copy') {
  const button = h('button', {type: 'button', class: 'small', onclick: async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch (e) {
      button.textContent = 'Select and copy by hand';
    }
    setTimeout(() => { button.textContent = label; }, 2000);
  }}, label);
  return button;
}

/** Asks before something that cannot be undone; resolves true when confirmed. */
export function confirmAction(question, confirmLabel) {
  return new Promise(resolve => {
    const dialog = h('dialog', {class: 'confirm'},
      h('p', {}, question),
      h('div', {class: 'actions'},
        h('button', {type: 'button', class: 'danger', 'data-confirm': 'yes', onclick: () => close(true)},
          confirmLabel),
        h('button', {type: 'button', 'data-confirm': 'no', onclick: () => close(false)}, 'Cancel')));
    function close(answer) {
      dialog.close();
      dialog.remove();
      resolve(answer);
    }
    dialog.addEventListener('cancel', () => close(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Runs {@code fn} once calls stop coming for {@code millis}. */
export function debounce(fn, millis) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), millis);
  };
}
