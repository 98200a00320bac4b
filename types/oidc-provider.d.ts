// oidc-provider 9 ships no type declarations. Only test/helpers/oidc-provider.ts imports it (the tests' real
// OpenID Provider); this declares the part of its API that helper uses (its README "Configuration").
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  type Account = { accountId: string; claims(): Record<string, unknown> | Promise<Record<string, unknown>> };
  export type Configuration = {
    jwks?: { keys: object[] };
    clients?: object[];
    pkce?: { required?: () => boolean };
    findAccount?: (ctx: unknown, id: string) => Promise<Account | undefined>;
    extraTokenClaims?: (ctx: unknown, token: { accountId?: string }) => Promise<Record<string, unknown> | undefined>;
    features?: Record<string, object>;
    ttl?: Record<string, number>;
  };
  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
}
