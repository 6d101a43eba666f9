// A real OpenID provider (panva's certified oidc-provider) for Runboard's sign-in tests.
// Its development login form takes any account id; the claims come from ACCOUNTS, a JSON
// file read at every sign-in, so a test can change a person's groups between two logins.
// The signing key is the test's own (KEYS), so it can also sign tokens that are wrong in
// exactly one way.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const { PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, LOGGED_OUT_URI, ACCOUNTS, KEYS } =
  process.env;
const read = (path) => JSON.parse(readFileSync(path, 'utf8'));

const provider = new Provider(`http://127.0.0.1:${PORT}`, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: [LOGGED_OUT_URI],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  jwks: read(KEYS),
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  findAccount: async (ctx, id) => {
    const claims = read(ACCOUNTS)[id];
    return claims && { accountId: id, claims: async () => ({ sub: id, ...claims }) };
  },
  cookies: { keys: ['runboard-tests-only'] },
});
provider.proxy = false;
provider.listen(Number(PORT), '127.0.0.1');
