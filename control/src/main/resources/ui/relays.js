// Relays: where they run, whether they are healthy, how many clients each has (the admin token sees them).

import {api} from './api.js';
import {h, message, replace, ago} from './dom.js';

export async function render(main) {
  replace(main, h('h1', {}, 'Relays'));
  let relays;
  try {
    relays = await api('GET', '/relays');
  } catch (e) {
    main.append(message(e.status === 403 ? 'note' : 'error', e.status === 403
      ? 'Relays are shown to the admin token only.' : e.message));
    return;
  }
  relays.sort((a, b) => (a.region || '').localeCompare(b.region || '') || a.name.localeCompare(b.name));
  main.append(relays.length === 0 ? h('p', {class: 'muted'}, 'No relay has enrolled.') : h('table', {class: 'list'},
    h('thead', {}, h('tr', {}, ['Name', 'Region', 'Health', 'UDP clients', 'TCP clients', 'UDP', 'TCP', 'STUN',
      'Last heartbeat'].map(t => h('th', {}, t)))),
    h('tbody', {}, relays.map(relay => h('tr', {'data-relay': relay.id},
      h('td', {}, relay.name), h('td', {}, relay.region || '—'),
      h('td', {}, h('span', {class: 'status ' + (relay.healthy ? 'active' : 'revoked')},
        relay.healthy ? 'healthy' : 'unhealthy')),
      h('td', {}, String(relay.udpClients)), h('td', {}, String(relay.tcpClients)),
      h('td', {}, relay.udp || '—'), h('td', {}, relay.tcp || '—'), h('td', {}, (relay.stun || []).join(', ') || '—'),
      h('td', {}, ago(relay.lastHeartbeatMillis)))))));
}
