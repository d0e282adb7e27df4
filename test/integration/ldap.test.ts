import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeDnValue, escapeFilterValue, LdapAuthenticator, LdapUnavailableError, type LdapSettings } from '../../src/auth/ldap.js';
import { startTestServer } from '../helpers/https-server.js';
import { ROOT_DN, ROOT_PW, startSlapd, SUFFIX, type Slapd } from '../helpers/slapd.js';

const LDIF = `dn: ${SUFFIX}
objectClass: dcObject
objectClass: organization
o: Tagway test
dc: tagway

dn: ou=people,${SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,${SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,${SUFFIX}
objectClass: inetOrgPerson
uid: alice
cn: Alice Operator
sn: Operator
displayName: Alice the Operator
userPassword: alice-pw-1

dn: uid=bob,ou=people,${SUFFIX}
objectClass: inetOrgPerson
uid: bob
cn: Bob Boss
sn: Boss
userPassword: bob-pw-1

dn: uid=carol,ou=people,${SUFFIX}
objectClass: inetOrgPerson
uid: carol
cn: Carol Nogroup
sn: Nogroup
userPassword: carol-pw-1

dn: uid=o'neil\\, jr,ou=people,${SUFFIX}
objectClass: inetOrgPerson
uid: o'neil, jr
cn: O Neil
sn: Neil
userPassword: oneil-pw-1

dn: cn=Plant Operators,ou=groups,${SUFFIX}
objectClass: groupOfNames
cn: Plant Operators
member: uid=alice,ou=people,${SUFFIX}
member: uid=o'neil\\, jr,ou=people,${SUFFIX}

dn: cn=plant-admins,ou=groups,${SUFFIX}
objectClass: groupOfNames
cn: plant-admins
member: uid=bob,ou=people,${SUFFIX}

dn: cn=shift-leads,ou=groups,${SUFFIX}
objectClass: posixGroup
cn: shift-leads
gidNumber: 5001
memberUid: alice
`;

describe('LDAP login against a real OpenLDAP slapd', () => {
  let slapd: Slapd;
  let base: LdapSettings;
  beforeAll(async () => {
    slapd = await startSlapd();
    slapd.add(LDIF);
    base = {
      url: slapd.url,
      userDn: `uid={username},ou=people,${SUFFIX}`,
      groupSearch: { base: `ou=groups,${SUFFIX}`, filter: '(|(member={dn})(memberUid={username}))' },
      groupMap: { 'Plant Operators': ['operators'], [`cn=plant-admins,ou=groups,${SUFFIX}`]: ['admins'], 'shift-leads': ['viewers'] },
    };
  }, 240_000);
  afterAll(async () => {
    await slapd?.stop();
  });

  it('binds as the user and maps directory groups by name and by DN', async () => {
    const ldap = new LdapAuthenticator(base);
    expect(await ldap.authenticate('alice', 'alice-pw-1')).toEqual({
      username: 'alice',
      dn: `uid=alice,ou=people,${SUFFIX}`,
      displayName: 'Alice the Operator',
      directoryGroups: expect.arrayContaining([`cn=Plant Operators,ou=groups,${SUFFIX}`, `cn=shift-leads,ou=groups,${SUFFIX}`]),
      groups: ['operators', 'viewers'],
    });
    expect(await ldap.authenticate('bob', 'bob-pw-1')).toMatchObject({ displayName: 'Bob Boss', groups: ['admins'] });
  });

  it('refuses a wrong password, an unknown user and an empty password (no anonymous bind)', async () => {
    const ldap = new LdapAuthenticator(base);
    expect(await ldap.authenticate('alice', 'wrong')).toBeNull();
    expect(await ldap.authenticate('nobody', 'alice-pw-1')).toBeNull();
    expect(await ldap.authenticate('alice', '')).toBeNull();
  });

  it('refuses a user with no mapped group unless configured otherwise', async () => {
    expect(await new LdapAuthenticator(base).authenticate('carol', 'carol-pw-1')).toBeNull();
    expect(await new LdapAuthenticator({ ...base, requireMappedGroup: false }).authenticate('carol', 'carol-pw-1')).toMatchObject({
      username: 'carol',
      groups: [],
    });
  });

  it('escapes names in DNs and filters, so injection finds nobody and odd names still work', async () => {
    const ldap = new LdapAuthenticator(base);
    expect(await ldap.authenticate("o'neil, jr", 'oneil-pw-1')).toMatchObject({ groups: ['operators'] });
    expect(await ldap.authenticate('alice,ou=people', 'alice-pw-1')).toBeNull();
    const search = new LdapAuthenticator({
      ...base,
      userDn: undefined,
      userSearch: { base: `ou=people,${SUFFIX}`, filter: '(uid={username})', bindDn: ROOT_DN, bindPassword: ROOT_PW },
    });
    expect(await search.authenticate('*', 'alice-pw-1')).toBeNull();
    expect(await search.authenticate('al*', 'alice-pw-1')).toBeNull();
    expect(await search.authenticate('alice)(uid=*', 'alice-pw-1')).toBeNull();
  });

  it('search-then-bind with a service account', async () => {
    const ldap = new LdapAuthenticator({
      ...base,
      userDn: undefined,
      userSearch: { base: `ou=people,${SUFFIX}`, filter: '(uid={username})', bindDn: ROOT_DN, bindPassword: ROOT_PW },
    });
    expect(await ldap.authenticate('bob', 'bob-pw-1')).toMatchObject({ dn: `uid=bob,ou=people,${SUFFIX}`, groups: ['admins'] });
    expect(await ldap.authenticate('bob', 'nope')).toBeNull();
  });

  it('logs in through the server: POST /auth/login binds to the directory and maps groups', async () => {
    const t = await startTestServer({
      config: (c) => {
        c.security.ldap = { ...base, groupMap: { 'Plant Operators': ['operators'] } };
      },
    });
    try {
      const r = await t.call('POST', '/auth/login', { body: { username: 'alice', password: 'alice-pw-1' } });
      expect(r.status, r.text).toBe(200);
      expect(r.body.user).toMatchObject({
        username: 'alice',
        displayName: 'Alice the Operator',
        groups: ['operators'],
        authMethod: 'session',
      });
      const wrong = await t.call('POST', '/auth/login', { body: { username: 'alice', password: 'nope' } });
      const unknown = await t.call('POST', '/auth/login', { body: { username: 'nobody', password: 'nope' } });
      expect([wrong.status, unknown.status]).toEqual([401, 401]);
      expect(wrong.body.detail).toBe(unknown.body.detail);
      const w = await t.call('PUT', `/tags/${encodeURIComponent('Line1.Filler.SpeedSetpoint')}/value`, {
        headers: { authorization: `Bearer ${r.body.token}` },
        body: { value: 250 },
      });
      expect(w.status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('reports an unreachable directory as unavailable, not as a wrong password', async () => {
    const ldap = new LdapAuthenticator({ ...base, url: 'ldap://127.0.0.1:1', timeoutMs: 1000 });
    await expect(ldap.authenticate('alice', 'alice-pw-1')).rejects.toBeInstanceOf(LdapUnavailableError);
  });
});

describe('LDAP escaping', () => {
  it('RFC 4515 filter values and RFC 4514 DN values', () => {
    expect(escapeFilterValue('a*b(c)\\d\0')).toBe('a\\2ab\\28c\\29\\5cd\\00');
    expect(escapeDnValue('a,b+c"d\\e<f>g;h=i')).toBe('a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h\\=i');
    expect(escapeDnValue(' #lead')).toBe('\\ #lead');
    expect(escapeDnValue('trail ')).toBe('trail\\ ');
  });
});
