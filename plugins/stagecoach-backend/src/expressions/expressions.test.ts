import { evaluate, evaluateTemplate, ExpressionEnv } from './expressions';

const env: ExpressionEnv = {
  values: {
    vars: { repo: 'https://git.example.com/app.git', replicas: 3, list: ['a', 'b'] },
    ctx: { stage: 'dev' },
    outputs: { update: { commitMessage: 'Updated values' } },
  },
  functions: {
    upper: v => String(v).toUpperCase(),
    quote: v => (typeof v === 'string' ? v : JSON.stringify(v)),
  },
};

describe('expressions', () => {
  it('keeps the type of a whole-value expression and interpolates inside text', () => {
    expect(evaluateTemplate('${{ vars.replicas }}', env)).toBe(3);
    expect(evaluateTemplate('${{ vars.replicas + 1 }}', env)).toBe(4);
    expect(evaluateTemplate('stage ${{ ctx.stage }} x${{ vars.replicas }}', env)).toBe('stage dev x3');
    expect(evaluateTemplate({ a: ['${{ upper(ctx.stage) }}'], 'b${{ x }}': 1 }, env)).toEqual({
      a: ['DEV'],
      'b${{ x }}': 1,
    });
    expect(evaluateTemplate('${{ quote(vars.replicas) }}', env)).toBe('3');
  });

  it('supports comparisons, logic, ternaries and indexing', () => {
    expect(evaluate('ctx.stage == "dev" && vars.replicas > 2', env)).toBe(true);
    expect(evaluate('ctx.stage == "prod" or not (vars.replicas < 3)', env)).toBe(true);
    expect(evaluate('vars.replicas > 5 ? "big" : "small"', env)).toBe('small');
    expect(evaluate('vars.list[1] + vars.list[-2]', env)).toBe('ba');
    expect(evaluate('outputs["update"].commitMessage', env)).toBe('Updated values');
  });

  it('names unknown names and functions, and type errors', () => {
    expect(() => evaluate('varz.repo', env)).toThrow('in "varz.repo": unknown name "varz" (known: ctx, outputs, vars)');
    expect(() => evaluate('shell("rm -rf /")', env)).toThrow(/unknown function "shell" \(known: quote, upper; built-in: abs, all, any, /);
    expect(() => evaluate('vars.repo - 1', env)).toThrow(/"-" needs numbers, got string/);
    expect(() => evaluate('vars.nothing.deeper', env)).toThrow(/cannot read "deeper" of undefined/);
  });

  it('is sandboxed: no prototypes, constructors, assignment or method calls', () => {
    expect(() => evaluate('vars.constructor', env)).toThrow(/"constructor" is not accessible/);
    expect(() => evaluate('vars["__proto__"]', env)).toThrow(/"__proto__" is not accessible/);
    expect(() => evaluate('vars.repo.toString()', env)).toThrow(/only named functions can be called/);
    expect(() => evaluate('vars["constructor"]["constructor"]("return process")()', env)).toThrow(/only named functions can be called/);
    expect(() => evaluate('vars["constructor"]["constructor"]', env)).toThrow(/"constructor" is not accessible/);
    expect(() => evaluate('{"__proto__": 1}', env)).toThrow(/"__proto__" cannot be a key/);
    expect(evaluate('fromJSON(\'{"__proto__": {"x": 1}}\')', env)).toEqual({});
    expect(evaluate('fromJSON(\'{"__proto__": {"x": 1}}\').x', env)).toBeUndefined();
    expect(() => evaluate('map(vars.list, #.constructor)', env)).toThrow(/"constructor" is not accessible/);
    expect(() => evaluate('get(vars, "constructor")', env)).not.toThrow();
    expect(evaluate('get(vars, "constructor")', env)).toBeNull();
    expect(() => evaluate('vars.repo = 1', env)).toThrow();
    expect(() => evaluate('process', env)).toThrow(/unknown name "process"/);
    expect(evaluate('vars.hasOwnProperty', env)).toBeUndefined();
  });
});
