// Package plugins runs users' WebAssembly transform functions (Cloudinary's
// fn_wasm ABI) in wazero: compiled once (with a compilation cache on disk),
// kept as a bounded pool of warm instances per plugin version, each call
// bounded in memory, time and output size, and any instance that fails
// thrown away.
package plugins

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// wasiAllowed is the WASI preview 1 subset a (Go) guest may import: with no
// preopened directories, no environment, no arguments and no sockets in
// the module config, none of these reach a file, the network or the
// host's environment.
var wasiAllowed = []string{
	"args_get", "args_sizes_get", "environ_get", "environ_sizes_get", "clock_res_get", "clock_time_get",
	"fd_write", "fd_close", "fd_fdstat_get", "fd_fdstat_set_flags", "fd_prestat_get", "fd_prestat_dir_name",
	"poll_oneoff", "proc_exit", "random_get", "sched_yield",
}

// checkModule verifies the ABI of a compiled module: the exports memory,
// alloc(i32)→i32, dealloc(i32,i32), transform(5×i32)→i32, and imports
// only env.trace and the allowed WASI subset.
func checkModule(cm wazero.CompiledModule, maxPages uint32) error {
	var problems []string
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		switch {
		case mod == "env" && name == "trace":
			if !sig(f, []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, nil) {
				problems = append(problems, "env.trace must take (i32, i32) and return nothing")
			}
		case mod == "wasi_snapshot_preview1" && slices.Contains(wasiAllowed, name):
		default:
			problems = append(problems, fmt.Sprintf("forbidden import %s.%s", mod, name))
		}
	}
	for _, m := range cm.ImportedMemories() {
		mod, name, _ := m.Import()
		problems = append(problems, fmt.Sprintf("forbidden memory import %s.%s", mod, name))
	}
	mems := cm.ExportedMemories()
	if mem, ok := mems["memory"]; !ok {
		problems = append(problems, "no exported memory named \"memory\"")
	} else if mem.Min() > maxPages {
		problems = append(problems, fmt.Sprintf("initial memory of %d pages exceeds the limit of %d", mem.Min(), maxPages))
	}
	i32 := api.ValueTypeI32
	want := map[string][2][]api.ValueType{
		"alloc":     {{i32}, {i32}},
		"dealloc":   {{i32, i32}, nil},
		"transform": {{i32, i32, i32, i32, i32}, {i32}},
	}
	fns := cm.ExportedFunctions()
	for _, name := range []string{"alloc", "dealloc", "transform"} {
		f, ok := fns[name]
		if !ok {
			problems = append(problems, "missing export "+name)
			continue
		}
		if !sig(f, want[name][0], want[name][1]) {
			problems = append(problems, fmt.Sprintf("export %s has the wrong signature %v -> %v", name, f.ParamTypes(), f.ResultTypes()))
		}
	}
	if f, ok := fns["_initialize"]; ok && (len(f.ParamTypes()) > 0 || len(f.ResultTypes()) > 0) {
		problems = append(problems, "export _initialize must take and return nothing")
	}
	if len(problems) > 0 {
		return &Error{Status: 400, Msg: "Invalid plugin: " + strings.Join(problems, "; ")}
	}
	return nil
}

func sig(f api.FunctionDefinition, params, results []api.ValueType) bool {
	return slices.Equal(f.ParamTypes(), params) && slices.Equal(f.ResultTypes(), results)
}
