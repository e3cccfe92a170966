// Added to a copy of k8s.io/system-validators' validators package at build time
// (tests/check-kernel-checkers.sh); the module's own files are compiled as
// published. The validator reads the kernel config from fixed paths (its
// getKernelConfigReader), so this file hands a given file to its own parser
// and checker instead.

package system

import (
	"fmt"
	"io"
)

// B4KResult is one option as the validator reported it.
type B4KResult struct {
	Name, Message, Result string
}

type b4kReporter struct{ results []B4KResult }

func (r *b4kReporter) Report(key, value string, result ValidationResultType) error {
	names := map[ValidationResultType]string{good: "good", bad: "bad", warn: "warn"}
	r.results = append(r.results, B4KResult{key, value, names[result]})
	return nil
}

// B4KValidateKernelConfig runs the validator's kernel-config check on a .config
// as on a node booted with cgroup v2: DefaultSysSpec's required list plus its
// cgroup v2 list, its optional list plus its cgroup v2 optional list (the
// validator itself picks the cgroup lists from the host's /proc/mounts, and
// does not read OptionalCgroupsV2).
func B4KValidateKernelConfig(config io.Reader) ([]B4KResult, error) {
	rep := &b4kReporter{}
	k := &KernelValidator{Reporter: rep}
	all, err := k.parseKernelConfig(config)
	if err != nil {
		return nil, fmt.Errorf("parsing the kernel config: %w", err)
	}
	spec := DefaultSysSpec.KernelSpec
	spec.Required = append(append([]KernelConfig{}, spec.Required...), spec.RequiredCgroupsV2...)
	spec.Optional = append(append([]KernelConfig{}, spec.Optional...), spec.OptionalCgroupsV2...)
	spec.RequiredCgroupsV1, spec.RequiredCgroupsV2 = nil, nil
	// The returned error only repeats the "bad" results.
	_ = k.validateCachedKernelConfig(all, spec)
	return rep.results, nil
}
