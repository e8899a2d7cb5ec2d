// A real OpenID Connect provider for yiciban's tests: the OpenID-Certified
// `oidc-provider` package, configured from a JSON file, issuing JWT access
// tokens that follow the identity contract of issue 14 (audience = the RFC
// 8707 resource, roles in realm_access.roles, preferred_username,
// department, azp/client_id). No token carries an applicant's ID number
// (ADR 0029): it is released only by userinfo, under the scope
// yiciban.identity — to the package's own (opaque) userinfo tokens, and to
// the yiciban JWT access tokens the services present on the applicant's
// behalf, which the package itself refuses at userinfo ("token audience
// prevents accessing the userinfo endpoint", its strict reading of RFC
// 8707). For those, `userinfoForResourceTokens` answers as Keycloak and the
// provincial identity platforms do: a valid, unexpired access token of this
// provider for one of the resources gets the claims of its scope.
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
//     "users": [{ "username", "roles": [...], "department"?, "id_number"?, "name"? }],
//     "refresh_tokens": "always" | "offline_access"
//   }
// Sign-in uses the package's development interactions (a login form taking
// any password, then a consent form): users are known by name only. The
// device authorization grant (RFC 8628) is on, with the package's pages:
// /device takes the user code, asks to confirm it, then signs in as above.
// Refresh tokens: "always" (the default) issues one to every client allowed
// the refresh_token grant; "offline_access" is the package's own rule, as
// strict as OpenID Connect Core §11 reads: only when the grant has the scope
// offline_access (which the authorization endpoint keeps only with
// prompt=consent).
// Everything is kept in memory: a restart forgets sessions and tokens.

import { readFileSync } from 'node:fs';
import { createPublicKey, generateKeyPairSync, randomUUID, verify as verifySignature } from 'node:crypto';
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
    return claims;
  }

  const refreshTokens = config.refresh_tokens || 'always';
  if (refreshTokens !== 'always' && refreshTokens !== 'offline_access') {
    throw new Error(`config: refresh_tokens must be "always" or "offline_access", not ${refreshTokens}`);
  }
  const ttl = (name, fallback) => (config[name] === undefined ? fallback : config[name]);

  return new Provider(issuer, {
    clients,
    jwks: { keys },
    // ID tokens carry the same claims as the access tokens (scope profile);
    // the ID number only userinfo, under its own scope (see findAccount).
    claims: {
      openid: ['sub'],
      profile: ['preferred_username', 'name', 'department', 'realm_access'],
      [IDENTITY_SCOPE]: ['id_number'],
    },
    scopes: ['openid', 'offline_access', 'profile', IDENTITY_SCOPE],
    conformIdTokenClaims: false,
    async findAccount(_ctx, sub) {
      const user = users.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims(use) {
          const claims = {
            sub,
            preferred_username: user.username,
            realm_access: { roles: user.roles || [] },
          };
          if (user.name) claims.name = user.name;
          if (user.department) claims.department = user.department;
          // Never into an ID token, whatever the scope: userinfo only.
          if (user.id_number && use === 'userinfo') claims.id_number = user.id_number;
          return claims;
        },
      };
    },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      // RFC 8628 with the package's user-code and confirmation pages at /device.
      deviceFlow: { enabled: true },
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
            // yiciban.identity rides along so the resource token says
            // whether the person consented to release the number (userinfo).
            scope: `yiciban ${IDENTITY_SCOPE}`,
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
    // without asking for offline_access ("always"), or only for grants with
    // offline_access ("offline_access", the package's default).
    issueRefreshToken: async (_ctx, client, source) => client.grantTypeAllowed('refresh_token')
      && (refreshTokens === 'always' || source.scopes.has('offline_access')),
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

// The scope under which userinfo releases an applicant's ID number.
const IDENTITY_SCOPE = 'yiciban.identity';

// Userinfo for the provider's own JWT access tokens of a yiciban resource
// (see the header): a Koa middleware in front of the package's userinfo
// route; any other request, and a token that is not such a JWT, goes on to
// the package. A bad token is answered as RFC 6750 says.
function userinfoForResourceTokens(config, users) {
  const issuer = config.issuer;
  const resources = new Set(config.resources);
  const publicKeys = new Map(config.keys.map((jwk) => {
    const { d, p, q, dp, dq, qi, ...pub } = jwk;
    return [jwk.kid, { alg: algOf(jwk), key: createPublicKey({ key: pub, format: 'jwk' }) }];
  }));
  const decode = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

  function verified(token) {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    let header;
    let payload;
    try {
      header = decode(parts[0]);
      payload = decode(parts[1]);
    } catch {
      return undefined;
    }
    const published = publicKeys.get(header.kid);
    if (!published || header.alg !== published.alg || header.typ !== 'at+jwt') return undefined;
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    const signature = Buffer.from(parts[2], 'base64url');
    const key = published.alg === 'ES256' ? { key: published.key, dsaEncoding: 'ieee-p1363' } : published.key;
    if (!verifySignature('sha256', signed, key, signature)) return undefined;
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const now = Math.floor(Date.now() / 1000);
    if (payload.iss !== issuer || !(payload.exp > now) || !audiences.some((a) => resources.has(a))) return undefined;
    return payload;
  }

  return async function resourceTokenUserinfo(ctx, next) {
    const authorization = ctx.get('authorization');
    const jwt = /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(authorization);
    if (ctx.path !== '/me' || !['GET', 'POST'].includes(ctx.method) || !jwt) return next();
    ctx.set('cache-control', 'no-store');
    const payload = verified(authorization.slice('Bearer '.length));
    const user = payload && users.get(payload.sub);
    if (!user) {
      ctx.status = 401;
      ctx.set('www-authenticate', 'Bearer error="invalid_token"');
      ctx.body = { error: 'invalid_token', error_description: 'invalid token provided' };
      return undefined;
    }
    const scopes = new Set(String(payload.scope || '').split(' '));
    const claims = { sub: payload.sub };
    if (scopes.has(IDENTITY_SCOPE) && user.id_number) claims.id_number = user.id_number;
    ctx.body = claims;
    return undefined;
  };
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
  provider.use(userinfoForResourceTokens(config, new Map(config.users.map((u) => [u.username, u]))));
  provider.on('server_error', (_ctx, err) => process.stderr.write(`server_error: ${err.stack}\n`));
  const server = createServer(provider.callback());
  const target = config.listen_fd !== undefined ? { fd: config.listen_fd } : { port: required(config.port, 'port'), host: '127.0.0.1' };
  server.listen(target, () => process.stdout.write(`ready ${config.issuer}\n`));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
