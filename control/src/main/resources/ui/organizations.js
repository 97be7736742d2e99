// Organizations: the admin sees every one (filter by name, paged); an organization token sees its own.

import {api} from './api.js';
import {h, message, replace, time, copyButton, debounce} from './dom.js';

const PAGE = 50;

export async function render(main, {session, go}) {
  const list = h('div', {id: 'organization-list'});
  const status = h('div');
  let offset = 0;
  const name = h('input', {type: 'search', id: 'organization-filter', placeholder: 'name contains', size: 24});

  async function load() {
    const params = new URLSearchParams({offset: String(offset), limit: String(PAGE)});
    if (name.value) params.set('name', name.value);
    const page = await api('GET', '/organizations?' + params);
    replace(list, h('table', {class: 'list'},
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Id'), h('th', {}, 'IPv4'), h('th', {}, 'IPv6'),
        h('th', {}, 'Created'), h('th', {}, ''))),
      h('tbody', {}, page.organizations.map(org => h('tr', {'data-organization': org.id},
        h('td', {}, org.name), h('td', {}, h('code', {}, org.id)), h('td', {}, org.ipv4Cidr),
        h('td', {}, org.ipv6Prefix), h('td', {}, time(org.createdAt)),
        h('td', {}, h('button', {type: 'button', class: 'small', onclick: () => go('devices', org.id)}, 'Open')))))),
    pager(page.total, offset, next => { offset = next; load().catch(show); }));
  }
  const show = e => replace(status, message('error', e.message));
  name.addEventListener('input', debounce(() => { offset = 0; load().catch(show); }, 250));

  const created = h('div', {id: 'organization-created'});
  const newName = h('input', {type: 'text', id: 'organization-name', placeholder: 'name', size: 24, maxlength: 64});
  const createForm = session.admin ? h('form', {class: 'inline', onsubmit: async event => {
    event.preventDefault();
    try {
      const org = await api('POST', '/organizations', {name: newName.value});
      newName.value = '';
      replace(created, h('div', {class: 'secret'},
        h('p', {}, 'Organization ', h('strong', {}, org.name), ' created. Its API token is shown this once:'),
        h('code', {class: 'token'}, org.apiToken), ' ', copyButton(org.apiToken)));
      load().catch(show);
    } catch (e) {
      replace(created, message('error', e.message));
    }
  }}, h('label', {}, 'New organization ', newName), ' ', h('button', {type: 'submit'}, 'Create')) : null;

  replace(main, h('h1', {}, 'Organizations'), createForm, created, h('p', {}, name), status, list);
  await load();
}

/** "1–50 of 10000" with previous and next. */
export function pager(total, offset, goTo) {
  const last = Math.min(offset + PAGE, total);
  return h('div', {class: 'pager'},
    h('button', {type: 'button', class: 'small', disabled: offset === 0, onclick: () => goTo(Math.max(0, offset - PAGE))},
      'Previous'),
    h('span', {class: 'muted'}, total === 0 ? 'none' : (offset + 1) + '–' + last + ' of ' + total),
    h('button', {type: 'button', class: 'small', disabled: last >= total, onclick: () => goTo(offset + PAGE)}, 'Next'));
}
