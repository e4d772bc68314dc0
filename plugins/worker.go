package plugins

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero"
)

// A compile worker is this same executable started with workerEnv set to
// the compilation cache directory and pagesEnv to the memory limit in
// pages: it compiles the module on its stdin into that cache, checks its
// ABI and exits. wazero cannot stop compiling one function midway, but a
// process can be killed, so the host compiles a module it has not seen
// in a worker under the compile deadline; run workers then load it from
// the cache. Any binary that links this package can serve as a worker
// (init runs before main).
const (
	workerEnv = "EDGEPIX_PLUGIN_COMPILE_WORKER"
	pagesEnv  = "EDGEPIX_PLUGIN_PAGES"
)

// workerMemory caps a worker's memory (see limitWorkerMemory); compiling
// a 3 MB Go plugin peaks at 75 MB.
const workerMemory = 2 << 30

// Worker exit codes: the module did not compile; the worker failed.
const (
	exitInvalid = 3
	exitFailed  = 4
)

func init() {
	if dir, ok := os.LookupEnv(workerEnv); ok {
		pages, _ := strconv.ParseUint(os.Getenv(pagesEnv), 10, 32)
		os.Exit(compileWorker(dir, uint32(pages), os.Stdin, os.Stderr))
	}
}

// compileWorker compiles the module read from in into the cache in dir
// and checks its ABI for a memory limit of pages.
func compileWorker(dir string, pages uint32, in io.Reader, errOut io.Writer) int {
	limitWorkerMemory(workerMemory)
	wasm, err := io.ReadAll(io.LimitReader(in, MaxModuleBytes+1))
	if err != nil {
		fmt.Fprint(errOut, err)
		return exitFailed
	}
	if err := checkBinary(wasm); err != nil {
		fmt.Fprint(errOut, err)
		return exitInvalid
	}
	ctx := context.Background()
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		fmt.Fprint(errOut, err)
		return exitFailed
	}
	r := wazero.NewRuntimeWithConfig(ctx, runtimeConfig(cache, 0))
	cm, err := r.CompileModule(ctx, wasm)
	if err == nil {
		err = checkModule(cm, pages)
	}
	if err != nil {
		fmt.Fprint(errOut, strings.TrimPrefix(err.Error(), "Invalid plugin: "))
		return exitInvalid
	}
	return 0
}

// compileInWorker fills the compilation cache with wasm in a worker
// process, killed when ctx ends, and checks its ABI.
func (h *Host) compileInWorker(ctx context.Context, wasm []byte, pages uint32) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), workerEnv+"="+h.cacheDir, fmt.Sprintf("%s=%d", pagesEnv, pages))
	cmd.Stdin = bytes.NewReader(wasm)
	var msg bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &msg, left: 4 << 10}
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &exit) && exit.ExitCode() == exitInvalid:
		return &Error{Status: 400, Msg: "Invalid plugin: " + strings.TrimSpace(msg.String())}
	case errors.As(err, &exit) && exit.ExitCode() != exitFailed: // out of memory (the runtime's fatal error), a signal
		return &Error{Status: 400, Msg: fmt.Sprintf("Invalid plugin: compiling it failed (%v: %s)", err, firstLine(msg.String()))}
	default: // the worker could not run or failed itself
		return fmt.Errorf("plugin compile worker: %v: %s", err, firstLine(msg.String()))
	}
}

// limitedWriter keeps the first left bytes written to it.
type limitedWriter struct {
	w    io.Writer
	left int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if n := min(len(p), l.left); n > 0 {
		l.w.Write(p[:n])
		l.left -= n
	}
	return len(p), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
