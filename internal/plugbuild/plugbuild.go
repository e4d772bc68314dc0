// Package plugbuild builds the example plugins (plugins/examples/NAME)
// from source, once per process, for tests and benchmarks: Go ones with
// the standard Go toolchain, text-format ones (NAME/NAME.wat) with
// wasmasm.Assemble.
package plugbuild

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/edgepix/edgepix/internal/wasmasm"
)

var (
	mu    sync.Mutex
	built = map[string][]byte{}
	dir   string
)

// Root is the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Build returns plugins/examples/name assembled from name.wat if it has
// one, else compiled with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared.
func Build(name string) ([]byte, error) {
	mu.Lock()
	defer mu.Unlock()
	if b, ok := built[name]; ok {
		return b, nil
	}
	if src, err := os.ReadFile(filepath.Join(Root(), "plugins", "examples", name, name+".wat")); err == nil {
		b, err := wasmasm.Assemble(string(src))
		if err != nil {
			return nil, fmt.Errorf("assembling plugin %s: %v", name, err)
		}
		built[name] = b
		return b, nil
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "edgepix-plugins-*")
		if err != nil {
			return nil, err
		}
		dir = d
	}
	out := filepath.Join(dir, name+".wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s -w", "-o", out, "./plugins/examples/"+name)
	cmd.Dir = Root()
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building plugin %s: %v\n%s", name, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	built[name] = b
	return b, nil
}
