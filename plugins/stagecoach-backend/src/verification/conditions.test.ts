import { conditionProblem, evaluateConditions, valueText } from './conditions';

describe('metric conditions', () => {
  const both = { successCondition: 'result[0] >= 0.95', failureCondition: 'result[0] < 0.5' };

  it('with neither condition, any result is Successful', () => {
    expect(evaluateConditions({}, [0.1])).toEqual({ phase: 'Successful' });
  });

  it('with only successCondition, a result that misses it Failed', () => {
    expect(evaluateConditions({ successCondition: 'result[0] >= 0.95' }, [0.97]).phase).toBe('Successful');
    expect(evaluateConditions({ successCondition: 'result[0] >= 0.95' }, [0.9])).toEqual({
      phase: 'Failed',
      message: 'result [0.9] did not satisfy result[0] >= 0.95',
    });
  });

  it('with only failureCondition, a result that does not meet it is Successful', () => {
    expect(evaluateConditions({ failureCondition: 'result[0] > 0.05' }, [0.01]).phase).toBe('Successful');
    expect(evaluateConditions({ failureCondition: 'result[0] > 0.05' }, [0.2])).toEqual({
      phase: 'Failed',
      message: 'result [0.2] met the failure condition result[0] > 0.05',
    });
  });

  it('with both, a result between them is Inconclusive', () => {
    expect(evaluateConditions(both, [0.99]).phase).toBe('Successful');
    expect(evaluateConditions(both, [0.1]).phase).toBe('Failed');
    const between = evaluateConditions(both, [0.7]);
    expect(between.phase).toBe('Inconclusive');
    expect(between.message).toContain('neither satisfied result[0] >= 0.95 nor met the failure condition result[0] < 0.5');
  });

  it('offers Rollouts helper functions', () => {
    const ok = (successCondition: string, result: unknown) => evaluateConditions({ successCondition }, result).phase;
    expect(ok('len(result) == 2 && result[1] > 3', [1, 4])).toBe('Successful');
    expect(ok('asInt(result.count) >= 10', { count: '12' })).toBe('Successful');
    expect(ok('asFloat(result) > 0.5', '0.75')).toBe('Successful');
    expect(ok('isNaN(result[0])', [NaN])).toBe('Successful');
    expect(ok('isInf(result)', Infinity)).toBe('Successful');
    expect(ok('isNil(result.missing)', {})).toBe('Successful');
    expect(ok('default(result.rate, 1) == 1', {})).toBe('Successful');
    expect(ok('result.ok == true and result.status == "green"', { ok: true, status: 'green' })).toBe('Successful');
  });

  it('a NaN sample fails a comparison, as in Go', () => {
    expect(evaluateConditions({ successCondition: 'result[0] >= 0.95' }, [NaN])).toEqual({
      phase: 'Failed',
      message: 'result [NaN] did not satisfy result[0] >= 0.95',
    });
  });

  it('a condition that is not true or false is an Error', () => {
    expect(evaluateConditions({ successCondition: 'result[0]' }, [0.5])).toEqual({
      phase: 'Error',
      message: 'successCondition result[0] gave a number (0.5), not true or false',
    });
  });

  it('a condition that cannot be evaluated is an Error that says why', () => {
    const r = evaluateConditions({ successCondition: 'result.rate > 1' }, 'plain text');
    expect(r.phase).toBe('Error');
    expect(r.message).toMatch(/^could not evaluate successCondition result\.rate > 1: cannot read "rate" of a string/);
    const asInt = evaluateConditions({ successCondition: 'asInt(result) > 1' }, 'abc');
    expect(asInt.message).toContain('asInt("abc"): not a whole number');
  });

  it('an empty result is an Error that says the provider returned no data', () => {
    expect(evaluateConditions({ successCondition: 'result[0] >= 0.95' }, [])).toEqual({
      phase: 'Error',
      message: 'could not evaluate successCondition result[0] >= 0.95: the result is empty: the metric provider returned no data',
    });
  });

  it('checks condition syntax, reading {{args.x}} as a value', () => {
    expect(conditionProblem('result[0] < {{args.threshold}}')).toBeUndefined();
    expect(conditionProblem('result[0] <')).toMatch(/cannot parse/);
  });

  it('writes values as JSON, with NaN and infinities as Prometheus does', () => {
    expect(valueText([0.5, NaN, Infinity, -Infinity])).toBe('[0.5,NaN,+Inf,-Inf]');
    expect(valueText({ ok: true, n: [1] })).toBe('{"ok":true,"n":[1]}');
    expect(valueText('ok')).toBe('"ok"');
  });
});
