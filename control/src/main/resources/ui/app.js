// The console's shell: login (a one-time link in the URL's fragment, or a pasted token), the organization in view,
// the navigation, and which page shows. Pages are modules with render(main, context).

import {api, currentSession, logIn, logOut, whenSessionEnds} from './api.js';
import {h, message, replace} from './dom.js';
import * as organizations from './organizations.js';
import * as devices from './devices.js';
import * as keys from './keys.js';
import * as groups from './groups.js';
import * as relays from './relays.js';
import * as map from './map.js';

const PAGES = {
  organizations: {title: 'Organizations', module: organizations, needsOrganization: false},
  devices: {title: 'Devices', module: devices, needsOrganization: true},
  keys: {title: 'Keys', module: keys, needsOrganization: true},
  groups: {title: 'Security groups', module: groups, needsOrganization: true},
  relays: {title: 'Relays', module: relays, needsOrganization: false},
  map: {title: 'Map', module: map, needsOrganization: true},
};

const main = document.getElementById('main');
let session = null;
let leaving = null;

/** The page and organization the fragment names: #/devices?org=o123. */
function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [name, query] = hash.split('?');
  const params = new URLSearchParams(query || '');
  return {page: PAGES[name] ? name : null, organizationId: params.get('org')};
}

export function go(page, organizationId) {
  const organization = organizationId || route().organizationId || (session && session.organizationId);
  location.hash = '#/' + page + (organization ? '?org=' + encodeURIComponent(organization) : '');
}

async function show() {
  if (leaving) {
    leaving();
    leaving = null;
  }
  if (!session) return showLogin();
  let {page, organizationId} = route();
  if (!session.admin) organizationId = session.organizationId;
  if (!page) page = session.admin ? 'organizations' : 'devices';
  if (PAGES[page].needsOrganization && !organizationId) page = 'organizations';
  renderNav(page, organizationId);
  document.title = PAGES[page].title + ' · meshwork console';
  replace(main, h('p', {class: 'muted'}, 'Loading…'));
  try {
    const stop = await PAGES[page].module.render(main, {session, organizationId, go});
    if (typeof stop === 'function') leaving = stop;
  } catch (e) {
    replace(main, message('error', e.message));
  }
}

function renderNav(current, organizationId) {
  const links = Object.entries(PAGES)
    .filter(([name]) => name !== 'organizations' || session.admin)
    .map(([name, page]) => h('a', {
      href: '#/' + name + (organizationId ? '?org=' + encodeURIComponent(organizationId) : ''),
      class: name === current ? 'current' : null, 'data-page': name,
    }, page.title));
  replace(document.getElementById('nav'), links);
  replace(document.getElementById('organization'), organizationId ? h('span', {class: 'muted'}, 'organization ',
    h('code', {id: 'organization-id'}, organizationId)) : null);
  replace(document.getElementById('who'),
    h('span', {class: 'muted'}, session.admin ? 'admin' : 'organization token'),
    h('button', {type: 'button', class: 'small', id: 'logout', onclick: async () => {
      await logOut().catch(() => {});
      session = null;
      location.hash = '';
      show();
    }}, 'Log out'));
}

function showLogin(note) {
  replace(document.getElementById('nav'));
  replace(document.getElementById('organization'));
  replace(document.getElementById('who'));
  const token = h('input', {type: 'password', id: 'login-token', name: 'token', autocomplete: 'off',
    placeholder: 'admin token or mwo.… organization API token', size: 48});
  const status = h('div', {id: 'login-status'}, note ? message('error', note) : null);
  const form = h('form', {id: 'login-form', class: 'login', onsubmit: async event => {
    event.preventDefault();
    try {
      session = await logIn({token: token.value});
      token.value = '';
      show();
    } catch (e) {
      replace(status, message('error', e.message));
    }
  }},
  h('h1', {}, 'Log in'),
  h('p', {}, 'Open a one-time login link (', h('code', {}, 'meshwork admin ui'), ' prints one), or paste a token. ',
    'The token is exchanged for a short session and not kept by the browser.'),
  h('label', {}, 'Token ', token), ' ', h('button', {type: 'submit'}, 'Log in'), status);
  replace(main, form);
  token.focus();
}

async function start() {
  whenSessionEnds(() => {
    if (session) {
      session = null;
      showLogin('The session ended; log in again.');
    }
  });
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const code = fragment.get('login');
  if (code) {
    // The code is spent by this request whatever its answer: take it out of the address bar and history.
    history.replaceState(null, '', location.pathname);
    try {
      session = await logIn({code});
    } catch (e) {
      showLogin('This login link did not work: ' + e.message);
      return;
    }
  } else {
    session = await currentSession().catch(() => null);
  }
  window.addEventListener('hashchange', show);
  show();
}

start();
