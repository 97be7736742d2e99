// Security groups: an editor whose refusals (the API's validation messages) show next to the field they name, and,
// for a chosen device, the peers its policy lets it see (GET /api/v1/devices/{id}/peers, where control has it).

import {api, seg} from './api.js';
import {h, message, replace, confirmAction, debounce} from './dom.js';

const PROTOCOLS = ['tcp', 'udp', 'icmp', 'any'];

export async function render(main, {organizationId}) {
  const list = h('div', {id: 'group-list'});
  const editorPlace = h('div', {id: 'group-editor'});
  const status = h('div');
  const base = '/organizations/' + seg(organizationId) + '/security-groups';

  async function load() {
    const groups = await api('GET', base);
    replace(list, groups.length === 0 ? h('p', {class: 'muted'}, 'No security groups: every device accepts everything.')
      : h('table', {class: 'list'},
        h('thead', {}, h('tr', {}, ['Name', 'Applies to', 'Rules', ''].map(t => h('th', {}, t)))),
        h('tbody', {}, groups.map(group => h('tr', {'data-group': group.name},
          h('td', {}, group.name), h('td', {}, (group.appliesTo || []).join(', ')),
          h('td', {}, (group.rules || []).map(rule => h('div', {}, rule.protocol + ' ' + (rule.ports || '*') + ' from '
            + (rule.peers || []).join(', ')))),
          h('td', {},
            h('button', {type: 'button', class: 'small', onclick: () => editor(group)}, 'Edit'), ' ',
            h('button', {type: 'button', class: 'small danger', onclick: async () => {
              if (!await confirmAction('Delete security group ' + group.name + '?', 'Delete')) return;
              try {
                await api('DELETE', base + '/' + seg(group.name));
                load();
              } catch (e) {
                replace(status, message('error', e.message));
              }
            }}, 'Delete')))))));
  }

  /** The form for a new group (null) or an existing one. */
  function editor(group) {
    const existing = group !== null;
    const name = h('input', {type: 'text', id: 'group-name', value: existing ? group.name : '', disabled: existing,
      size: 20});
    const appliesTo = h('input', {type: 'text', id: 'group-applies-to', size: 40,
      value: existing ? (group.appliesTo || []).join(', ') : '*'});
    const errors = {name: fieldError('name'), appliesTo: fieldError('appliesTo'), rules: fieldError('rules'),
      form: h('div', {class: 'form-error'})};
    const rules = h('div', {id: 'group-rules'});
    const ruleRows = [];

    function addRule(rule) {
      const protocol = h('select', {'data-field': 'protocol'},
        PROTOCOLS.map(p => h('option', {value: p, selected: rule.protocol === p}, p)));
      const ports = h('input', {type: 'text', 'data-field': 'ports', size: 12, placeholder: 'PORT, FROM-TO or *',
        value: rule.ports || ''});
      const peers = h('input', {type: 'text', 'data-field': 'peers', size: 36, placeholder: 'CIDRs or group names',
        value: (rule.peers || []).join(', ')});
      const rowErrors = {protocol: fieldError('protocol'), ports: fieldError('ports'), peers: fieldError('peers')};
      const row = h('div', {class: 'rule'},
        h('label', {}, 'protocol ', protocol, rowErrors.protocol), ' ',
        h('label', {}, 'ports ', ports, rowErrors.ports), ' ',
        h('label', {}, 'from ', peers, rowErrors.peers), ' ',
        h('button', {type: 'button', class: 'small', onclick: () => {
          ruleRows.splice(ruleRows.indexOf(entry), 1);
          row.remove();
        }}, 'Remove'));
      const entry = {row, protocol, ports, peers, errors: rowErrors};
      ruleRows.push(entry);
      rules.append(row);
    }

    (existing ? group.rules || [] : [{protocol: 'tcp', ports: '', peers: []}]).forEach(addRule);

    function clearErrors() {
      for (const e of [errors.name, errors.appliesTo, errors.rules, errors.form]) replace(e);
      for (const rule of ruleRows) Object.values(rule.errors).forEach(e => replace(e));
    }

    const form = h('form', {class: 'editor', id: 'group-form', onsubmit: async event => {
      event.preventDefault();
      clearErrors();
      const body = {
        name: name.value.trim(),
        appliesTo: appliesTo.value.split(',').map(s => s.trim()).filter(Boolean),
        rules: ruleRows.map(rule => ({
          protocol: rule.protocol.value,
          ports: rule.ports.value.trim() || null,
          peers: rule.peers.value.split(',').map(s => s.trim()).filter(Boolean),
        })),
      };
      try {
        if (existing) {
          await api('PUT', base + '/' + seg(group.name), body);
        } else {
          await api('POST', base, body);
        }
        replace(editorPlace, message('ok', 'Saved ' + body.name + '.'));
        load();
      } catch (e) {
        showError(e.message, body);
      }
    }},
    h('h2', {}, existing ? 'Edit ' + group.name : 'New security group'),
    h('p', {}, h('label', {}, 'Name ', name), errors.name),
    h('p', {}, h('label', {}, 'Applies to ', appliesTo), h('span', {class: 'muted small'},
      ' device ids, hostnames or *'), errors.appliesTo),
    h('div', {}, h('strong', {}, 'Allow inbound'), errors.rules, rules),
    h('p', {}, h('button', {type: 'button', class: 'small', onclick: () => addRule({protocol: 'tcp'})}, 'Add rule')),
    errors.form,
    h('p', {}, h('button', {type: 'submit', id: 'group-save'}, 'Save'), ' ',
      h('button', {type: 'button', onclick: () => replace(editorPlace)}, 'Cancel')));

    /**
     * Puts the API's message next to the field it is about: "rules[1].ports: …" names it; otherwise the message's
     * words say which field, and the value it quotes says which rule.
     */
    function showError(text, body) {
      const indexed = /^rules\[(\d+)\]\.(protocol|ports|peers)/.exec(text);
      let field = null;
      let index = -1;
      if (indexed) {
        index = Number(indexed[1]);
        field = indexed[2];
      } else if (/^protocol\b/.test(text)) {
        field = 'protocol';
      } else if (/^ports\b/.test(text)) {
        field = 'ports';
      } else if (/^(peers\b|each rule needs|not a CIDR|no security group named)/.test(text)) {
        field = 'peers';
      } else if (/^appliesTo\b/.test(text)) {
        replace(errors.appliesTo, text);
        return;
      } else if (/^rules\b/.test(text)) {
        replace(errors.rules, text);
        return;
      } else if (/^name\b|name in the body/.test(text)) {
        replace(errors.name, text);
        return;
      }
      if (field === null) {
        replace(errors.form, message('error', text));
        return;
      }
      if (index < 0) index = ruleFor(field, text, body);
      const rule = ruleRows[index] || ruleRows[0];
      if (!rule) {
        replace(errors.form, message('error', text));
        return;
      }
      replace(rule.errors[field], text);
      rule[field].classList.add('invalid');
      rule[field].focus();
    }

    function ruleFor(field, text, body) {
      const quoted = text.includes(': ') ? text.slice(text.lastIndexOf(': ') + 2) : null;
      const named = /no security group named (\S+)/.exec(text);
      return body.rules.findIndex(rule => {
        if (field === 'protocol') return !PROTOCOLS.includes(rule.protocol);
        if (field === 'ports') return quoted !== null ? rule.ports === quoted : rule.ports !== null;
        if (named) return rule.peers.includes(named[1]) || rule.peers.includes('group:' + named[1]);
        if (quoted !== null) return rule.peers.includes(quoted);
        return rule.peers.length === 0;
      });
    }

    replace(editorPlace, form);
    name.focus();
  }

  replace(main, h('h1', {}, 'Security groups'), status,
    h('p', {}, h('button', {type: 'button', id: 'group-new', onclick: () => editor(null)}, 'New security group')),
    editorPlace, list, peersOfDevice(organizationId));
  await load();
}

function fieldError(field) {
  return h('span', {class: 'field-error', 'data-error-for': field});
}

/** Pick a device by hostname; show the peers its policy lets it see. */
function peersOfDevice(organizationId) {
  const search = h('input', {type: 'search', id: 'peers-device', placeholder: 'hostname contains', size: 20});
  const choices = h('select', {id: 'peers-choice'});
  const result = h('div', {id: 'peers-result'});
  async function find() {
    const params = new URLSearchParams({limit: '20'});
    if (search.value) params.set('hostname', search.value);
    const page = await api('GET', '/organizations/' + seg(organizationId) + '/devices?' + params);
    replace(choices, h('option', {value: ''}, page.devices.length ? 'choose a device' : 'no device matches'),
      page.devices.map(d => h('option', {value: d.id}, d.hostname + ' (' + d.id + ')')));
  }
  async function show() {
    if (!choices.value) return replace(result);
    try {
      const answer = await api('GET', '/devices/' + seg(choices.value) + '/peers');
      const peers = Array.isArray(answer) ? answer : (answer.peers || []);
      replace(result, peers.length === 0 ? h('p', {class: 'muted'}, 'It sees no peers.')
        : h('ul', {}, peers.map(peer => h('li', {}, peer.hostname || peer.id, ' ',
          h('span', {class: 'muted'}, (peer.overlayIps || []).join(', '))))));
    } catch (e) {
      replace(result, e.status === 404 && e.message !== 'no such device'
        ? message('note', 'This control does not list the peers of a device yet (GET /api/v1/devices/{id}/peers).')
        : message('error', e.message));
    }
  }
  search.addEventListener('input', debounce(() => find().catch(() => {}), 250));
  choices.addEventListener('change', show);
  find().catch(() => {});
  return h('section', {class: 'peers-of-device'}, h('h2', {}, 'Peers a device may see'),
    h('p', {}, search, ' ', choices), result);
}
