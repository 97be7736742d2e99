// Registration keys: create one (its secret shown this once, with the `meshwork node up` line to copy), list and
// revoke. The list never has secrets: the API keeps only their hashes.

import {api, seg} from './api.js';
import {h, message, replace, time, copyButton, confirmAction} from './dom.js';

const EXPIRIES = [['0', 'never'], ['3600', '1 hour'], ['86400', '1 day'], ['604800', '7 days'], ['2592000', '30 days']];

export async function render(main, {organizationId}) {
  const reusable = h('input', {type: 'checkbox', id: 'key-reusable'});
  const approval = h('input', {type: 'checkbox', id: 'key-approval'});
  const expires = h('select', {id: 'key-expires'}, EXPIRIES.map(([value, label]) => h('option', {value}, label)));
  const created = h('div', {id: 'key-created'});
  const list = h('div', {id: 'key-list'});

  async function load() {
    const keys = await api('GET', '/organizations/' + seg(organizationId) + '/keys');
    keys.sort((a, b) => b.createdAt - a.createdAt);
    replace(list, keys.length === 0 ? h('p', {class: 'muted'}, 'No keys yet.') : h('table', {class: 'list'},
      h('thead', {}, h('tr', {}, ['Id', 'Reusable', 'Approval', 'Uses', 'Created', 'Expires', 'State', '']
        .map(t => h('th', {}, t)))),
      h('tbody', {}, keys.map(key => h('tr', {'data-key': key.id},
        h('td', {}, h('code', {}, key.id)), h('td', {}, key.reusable ? 'yes' : 'single use'),
        h('td', {}, key.approvalRequired ? 'required' : 'no'), h('td', {}, String(key.uses)),
        h('td', {}, time(key.createdAt)), h('td', {}, key.expiresAt ? time(key.expiresAt) : 'never'),
        h('td', {}, key.revoked ? 'revoked' : 'usable'),
        h('td', {}, key.revoked ? null : h('button', {type: 'button', class: 'small danger', 'data-action': 'revoke',
          onclick: async () => {
            if (!await confirmAction('Revoke key ' + key.id + '? Devices it registered stay.', 'Revoke')) return;
            try {
              await api('DELETE', '/organizations/' + seg(organizationId) + '/keys/' + seg(key.id));
              load();
            } catch (e) {
              replace(created, message('error', e.message));
            }
          }}, 'Revoke')))))));
  }

  const form = h('form', {id: 'key-form', class: 'inline', onsubmit: async event => {
    event.preventDefault();
    try {
      const key = await api('POST', '/organizations/' + seg(organizationId) + '/keys', {
        reusable: reusable.checked, approvalRequired: approval.checked, expiresInSeconds: Number(expires.value),
      });
      const line = 'meshwork node up --control ' + location.origin + ' --key ' + key.key
        + (key.controlPin ? ' --control-pin ' + key.controlPin : '');
      replace(created, h('div', {class: 'secret'},
        h('p', {}, h('strong', {}, 'Shown this once. '), 'Control keeps only a hash of the key: copy it now.'),
        h('p', {}, h('code', {class: 'token', id: 'key-secret'}, key.key), ' ', copyButton(key.key)),
        h('p', {}, 'On the device:'),
        h('pre', {id: 'key-node-up'}, line), copyButton(line, 'Copy command'),
        h('p', {}, h('button', {type: 'button', class: 'small', onclick: () => replace(created)}, 'Done, hide it'))));
      load();
    } catch (e) {
      replace(created, message('error', e.message));
    }
  }},
  h('label', {}, reusable, ' reusable'), ' ', h('label', {}, approval, ' devices wait for approval'), ' ',
  h('label', {}, 'expires ', expires), ' ', h('button', {type: 'submit', id: 'key-create'}, 'Create key'));

  replace(main, h('h1', {}, 'Registration keys'), form, created, list);
  await load();
}
