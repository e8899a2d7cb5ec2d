// A real OpenID Connect provider for yiciban's tests: the OpenID-Certified
// `oidc-provider` package, configured from a JSON file, issuing JWT access
// tokens that follow the identity contract of issue 14 (audience = the RFC
// 8707 resource, roles in realm_access.roles, preferred_username,
// department, id_number, azp/client_id).
//
//   node provider.mjs <config.json>     serve; prints "ready <issuer>" once listening
//   node provider.mjs --generate-key RS256|ES256
//                                        print a new private JWK (with a kid) on stdout
//
// The configuration (written by services/testkit, src/oidc.rs):
//   {
//     "issuer": "http://127.0.0.1:<port>",
//     "port": <port>,            // or "listen_fd": 0 to serve on an inherited listening socket
//     "keys": [<private JWK>...],  // the first one signs; the others are published only
//     "resources": ["urn:yiciban:intake", ...],
//     "access_token_ttl": 300, "id_token_ttl": 300, "refresh_token_ttl": 86400,
//     "clients": [{ "client_id", "client_secret"?, "redirect_uris": [...], "roles": [...],
//                   "grant_types": [...], "token_endpoint_auth_method"?, "application_type"? }],
//     "users": [{ "username", "roles": [...], "department"?, "id_number"?, "name"? }]
//   }
// Sign-in uses the package's development interactions (a login form taking
// any password, then a consent form): users are known by name only.
// Everything is kept in memory: a restart forgets sessions and tokens.

import { readFileSync } from 'node:fs';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';

function generateKey(alg) {
  const { privateKey } = alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (alg !== 'ES256' && alg !== 'RS256') throw new Error(`unsupported key algorithm ${alg} (RS256 or ES256)`);
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: randomUUID() };
}

// The JWS algorithm a private JWK signs with.
function algOf(jwk) {
  if (jwk.alg) return jwk.alg;
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  throw new Error(`cannot tell the algorithm of key ${jwk.kid} (kty ${jwk.kty})`);
}

function required(value, what) {
  if (value === undefined || value === null || value === '') throw new Error(`config: ${what} is missing`);
  return value;
}

function buildProvider(config) {
  const issuer = required(config.issuer, 'issuer');
  const keys = required(config.keys, 'keys');
  if (!Array.isArray(keys) || keys.length === 0) throw new Error('config: keys must list at least one private JWK');
  const signingAlg = algOf(keys[0]);
  const resources = new Set(required(config.resources, 'resources'));
  const users = new Map(required(config.users, 'users').map((u) => [required(u.username, 'users[].username'), u]));
  const clientRoles = new Map();

  const clients = required(config.clients, 'clients').map((c) => {
    const clientId = required(c.client_id, 'clients[].client_id');
    clientRoles.set(clientId, c.roles || []);
    const grantTypes = c.grant_types || ['client_credentials'];
    const metadata = {
      client_id: clientId,
      grant_types: grantTypes,
      response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
      redirect_uris: c.redirect_uris || [],
      token_endpoint_auth_method: c.token_endpoint_auth_method || (c.client_secret ? 'client_secret_basic' : 'none'),
      id_token_signed_response_alg: signingAlg,
    };
    if (c.client_secret) metadata.client_secret = c.client_secret;
    if (c.application_type) metadata.application_type = c.application_type;
    return metadata;
  });

  // The yiciban claims of an access token: a user's from the account, a
  // client's (client credentials) from the client.
  function contractClaims(token) {
    if (token.kind === 'ClientCredentials') {
      return { realm_access: { roles: clientRoles.get(token.clientId) || [] }, azp: token.clientId };
    }
    const user = users.get(token.accountId);
    if (!user) return undefined;
    const claims = {
      realm_access: { roles: user.roles || [] },
      preferred_username: user.username,
      azp: token.clientId,
    };
    if (user.department) claims.department = user.department;
    if (user.id_number) claims.id_number = user.id_number;
    return claims;
  }

  const ttl = (name, fallback) => (config[name] === undefined ? fallback : config[name]);

  return new Provider(issuer, {
    clients,
    jwks: { keys },
    // ID tokens carry the same claims as the access tokens (scope profile).
    claims: {
      openid: ['sub'],
      profile: ['preferred_username', 'name', 'department', 'id_number', 'realm_access'],
    },
    scopes: ['openid', 'offline_access', 'profile'],
    conformIdTokenClaims: false,
    async findAccount(_ctx, sub) {
      const user = users.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() {
          const claims = {
            sub,
            preferred_username: user.username,
            realm_access: { roles: user.roles || [] },
          };
          if (user.name) claims.name = user.name;
          if (user.department) claims.department = user.department;
          if (user.id_number) claims.id_number = user.id_number;
          return claims;
        },
      };
    },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // A code or refresh token granted for one resource is used for it
        // when the token request names none.
        useGrantedResource: async () => true,
        async getResourceServerInfo(_ctx, resourceIndicator) {
          if (!resources.has(resourceIndicator)) throw new errors.InvalidTarget();
          return {
            scope: 'yiciban',
            audience: resourceIndicator,
            accessTokenTTL: ttl('access_token_ttl', 300),
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: signingAlg } },
          };
        },
      },
    },
    pkce: { required: () => true },
    extraTokenClaims: async (_ctx, token) => contractClaims(token),
    // Refresh tokens for every client allowed the refresh_token grant,
    // without asking for offline_access.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: {
      AccessToken: ttl('access_token_ttl', 300),
      ClientCredentials: ttl('access_token_ttl', 300),
      IdToken: ttl('id_token_ttl', 300),
      RefreshToken: ttl('refresh_token_ttl', 86400),
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 3600,
      Grant: 86400,
    },
    cookies: { keys: [randomUUID()] },
    renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
}

function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--generate-key') {
    process.stdout.write(`${JSON.stringify(generateKey(args[1] || 'RS256'))}\n`);
    return;
  }
  if (args.length !== 1) {
    process.stderr.write('usage: node provider.mjs <config.json> | --generate-key RS256|ES256\n');
    process.exit(2);
  }
  const config = JSON.parse(readFileSync(args[0], 'utf8'));
  const provider = buildProvider(config);
  provider.on('server_error', (_ctx, err) => process.stderr.write(`server_error: ${err.stack}\n`));
  const server = createServer(provider.callback());
  const target = config.listen_fd !== undefined ? { fd: config.listen_fd } : { port: required(config.port, 'port'), host: '127.0.0.1' };
  server.listen(target, () => process.stdout.write(`ready ${config.issuer}\n`));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
