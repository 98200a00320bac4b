import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CaseNotFound, ClaimHeld, ValidationFailed } from '../../shared/errors.js';
import { bearerToken } from './auth.js';
import { toProblem } from './problem.js';
import { traceIdFrom } from './trace.js';

const bodyParserError = (type: string, status: number) => Object.assign(new Error(type), { type, status });

describe('toProblem (RFC 9457)', () => {
  it.each([
    [new CaseNotFound('no case c-1'), 404, 'https://ildflow.dev/problems/case-not-found'],
    [new ClaimHeld('held by Ada'), 409, 'https://ildflow.dev/problems/claim-held'],
    [bodyParserError('entity.too.large', 413), 413, 'https://ildflow.dev/problems/payload-too-large'],
    [bodyParserError('entity.parse.failed', 400), 400, 'https://ildflow.dev/problems/validation-failed'],
    [bodyParserError('encoding.unsupported', 415), 415, 'about:blank'],
  ])('maps %s to %i %s', (err, status, type) => {
    expect(toProblem(err, '/v1/x')).toMatchObject({ status, type, instance: '/v1/x' });
  });

  it('names the fields of a validation failure in the `errors` extension', () => {
    const p = toProblem(new ValidationFailed([{ path: 'order.id', message: 'required' }]), '/v1/cases');
    expect(p.errors).toEqual([{ path: 'order.id', message: 'required' }]);
  });

  it('maps a zod error to 400 with the field paths', () => {
    const r = z.object({ a: z.string() }).safeParse({});
    expect(toProblem(r.error, '/')).toMatchObject({ status: 400, errors: [{ path: 'a' }] });
  });

  it.each([new Error('ECONNRESET 10.0.0.5:6379'), new TypeError('x is undefined'), 'a string', null])(
    'turns an unknown error into 500 about:blank with no detail: %s',
    (err) => {
      const p = toProblem(err, '/v1/x');
      expect(p).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500, instance: '/v1/x' });
    },
  );
});

describe('bearerToken (RFC 6750 §2.1)', () => {
  it.each([
    ['Bearer abc.DEF-123_~+/=', 'abc.DEF-123_~+/='],
    ['bearer abc', 'abc'],
    ['Basic abc', null],
    ['Bearer', null],
    ['Bearer a b', null],
    [undefined, null],
  ])('%j → %j', (header, token) => expect(bearerToken(header)).toBe(token));
});

describe('traceIdFrom (W3C Trace Context)', () => {
  it.each([
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', '4bf92f3577b34da6a3ce929d0e0e4736'],
    ['00-00000000000000000000000000000000-00f067aa0ba902b7-01', null],
    ['garbage', null],
    [undefined, null],
  ])('%j → %j', (h, id) => expect(traceIdFrom(h)).toBe(id));
});
