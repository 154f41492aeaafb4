// The pid scope constants of core/rule-scope.ts and core/pid-scopes.ts against bpf/lib/stinger_pid_scope.h.
import { PID_SCOPE_TGIDS_MAX } from './pid-scopes.ts';
import { PID_SCOPE_RULE, PID_SCOPE_SLOTS } from './rule-scope.ts';
import { testCLayout } from './test-support.ts';

testCLayout({
  headers: ['stinger_pid_scope.h'],
  structs: {},
  constants: {
    PID_SCOPE_SLOTS,
    PID_SCOPE_TGIDS_MAX,
    PID_SCOPE_RULE_FLAG: PID_SCOPE_RULE.flag,
    PID_SCOPE_RULE_SLOT_SHIFT: PID_SCOPE_RULE.slotShift,
  },
  constantsTest: 'the pid scope slots, map size and rule flag encoding are the C header\'s',
});
