// The pod scope constants of core/rule-scope.ts and core/pod-scopes.ts against bpf/lib/stinger_pod_scope.h.
import { POD_SCOPE_CGROUPS_MAX, POD_SCOPE_SEARCH_DEPTH } from './pod-scopes.ts';
import { POD_SCOPE_RULE, POD_SCOPE_SLOTS } from './rule-scope.ts';
import { testCLayout } from './test-support.ts';

testCLayout({
  headers: ['stinger_pod_scope.h'],
  structs: {},
  constants: {
    POD_SCOPE_SLOTS,
    POD_SCOPE_CGROUPS_MAX,
    POD_SCOPE_SEARCH_DEPTH,
    POD_SCOPE_RULE_FLAG: POD_SCOPE_RULE.flag,
    POD_SCOPE_RULE_SLOT_SHIFT: POD_SCOPE_RULE.slotShift,
  },
  constantsTest: 'the pod scope slots, map size, search depth and rule flag encoding are the C header\'s',
});
