package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Dir is the file:// store: one file per key under a root directory.
type Dir struct{ root string }

var _ Store = (*Dir)(nil)

// NewDir opens the store rooted at the directory root, creating it if
// needed.
func NewDir(root string) (*Dir, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	return &Dir{root: root}, nil
}

// String is the store's URL.
func (d *Dir) String() string { return "file://" + d.root }

func (d *Dir) path(key string) string { return filepath.Join(d.root, filepath.FromSlash(key)) }

// Put writes r to a temporary file beside the target, fsyncs it, renames it
// into place and fsyncs the directory (and any directory it created).
func (d *Dir) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := d.path(key)
	f, err := d.createTemp(filepath.Dir(p))
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := io.Copy(f, exact(ctxReader{ctx, r}, size))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(p))
}

// createTemp makes the temporary file in dir, creating dir (and fsyncing
// the parents of what it created) if needed. It tries again if a
// concurrent DeletePrefix removes the directory in between.
func (d *Dir) createTemp(dir string) (*os.File, error) {
	for try := 0; ; try++ {
		created, err := d.mkdirs(dir)
		if err != nil {
			return nil, err
		}
		for _, c := range created {
			if err := syncDir(filepath.Dir(c)); err != nil {
				return nil, err
			}
		}
		f, err := os.CreateTemp(dir, tmpPrefix+"*")
		if errors.Is(err, fs.ErrNotExist) && try < 3 {
			continue
		}
		return f, err
	}
}

// mkdirs creates dir and its missing parents below the root, returning the
// directories it created, outermost first.
func (d *Dir) mkdirs(dir string) ([]string, error) {
	var missing []string
	for p := dir; p != d.root && len(p) > len(d.root); p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil {
			if !fi.IsDir() {
				return nil, fmt.Errorf("blob: %q is an object, not a folder", d.key(p))
			}
			break
		}
		missing = append(missing, p)
	}
	slices.Reverse(missing)
	for _, p := range missing {
		if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			if errors.Is(err, syscall.ENOTDIR) {
				return nil, fmt.Errorf("blob: %q is an object, not a folder", d.key(filepath.Dir(p)))
			}
			return nil, err
		}
	}
	return missing, nil
}

func (d *Dir) key(p string) string {
	return filepath.ToSlash(strings.TrimPrefix(p, d.root+string(filepath.Separator)))
}

// syncDir persists the entries of a directory (a rename, a new file).
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}

// Get opens the file of key.
func (d *Dir) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := ValidKey(key); err != nil {
		return nil, Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(d.path(key))
	if err != nil {
		return nil, Info{}, notFound(err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = ErrNotFound // a folder is not an object
	}
	if err != nil {
		f.Close()
		return nil, Info{}, err
	}
	return f, info(key, fi), nil
}

// Stat describes the file of key.
func (d *Dir) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidKey(key); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(d.path(key))
	if err != nil {
		return Info{}, notFound(err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, ErrNotFound
	}
	return info(key, fi), nil
}

// Delete removes the file of key.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := d.path(key)
	fi, err := os.Lstat(p)
	if err != nil {
		if errors.Is(notFound(err), ErrNotFound) {
			return nil
		}
		return err
	}
	if fi.IsDir() { // a folder is not an object
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// DeletePrefix removes the directory of prefix.
func (d *Dir) DeletePrefix(ctx context.Context, prefix string) error {
	if err := validPrefix(prefix, false); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := d.path(prefix)
	if fi, err := os.Lstat(p); err != nil || !fi.IsDir() {
		return nil // missing, or an object: no keys under it
	}
	return os.RemoveAll(p)
}

// List walks the directory of prefix depth first, each directory's entries
// sorted as their keys sort (a subdirectory "b" as "b/"), so keys come in
// byte order as on S3. Temporary files are skipped.
func (d *Dir) List(ctx context.Context, prefix string) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		if err := validPrefix(prefix, true); err != nil {
			yield(Info{}, err)
			return
		}
		dir := d.root
		if prefix != "" {
			dir = d.path(prefix)
		}
		if err := d.walk(ctx, dir, prefix, yield); err != nil && err != errStop {
			yield(Info{}, err)
		}
	}
}

var errStop = errors.New("stop")

func (d *Dir) walk(ctx context.Context, dir, prefix string, yield func(Info, error) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(notFound(err), ErrNotFound) {
			return nil // missing folder, or an object
		}
		return err
	}
	sortKey := func(e fs.DirEntry) string {
		if e.IsDir() {
			return e.Name() + "/"
		}
		return e.Name()
	}
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(sortKey(a), sortKey(b)) })
	for _, e := range ents {
		key := e.Name()
		if prefix != "" {
			key = prefix + "/" + key
		}
		switch {
		case e.IsDir():
			if err := d.walk(ctx, filepath.Join(dir, e.Name()), key, yield); err != nil {
				return err
			}
		case e.Type().IsRegular() && !strings.HasPrefix(e.Name(), tmpPrefix):
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted meanwhile
			}
			if err != nil {
				return err
			}
			if !yield(info(key, fi), nil) {
				return errStop
			}
		}
	}
	return nil
}

// Ping checks that the root is a writable directory.
func (d *Dir) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Stat(d.root)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("blob: %s is not a directory", d.root)
	}
	if err := syscall.Access(d.root, 2 /* W_OK */); err != nil {
		return fmt.Errorf("blob: %s is not writable: %w", d.root, err)
	}
	return nil
}

func info(key string, fi fs.FileInfo) Info {
	return Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}
}

// notFound maps a missing file, or a path through an object, to
// ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return ErrNotFound
	}
	return err
}
