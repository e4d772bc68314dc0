package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/edgepix/edgepix/internal/replicated"
	"github.com/nats-io/nats.go/jetstream"
)

// kvJSON keeps JSON records by cloud and name in a bucket (keys
// cloud.b64(name)): named transformations and upload presets.
type kvJSON[T any] struct{ kv *replicated.Bucket }

// Get loads one record; ok is false when it does not exist.
func (s kvJSON[T]) Get(ctx context.Context, cloud, name string) (*T, bool, error) {
	e, err := s.kv.Get(ctx, cloud+"."+b64(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fault(err)
	}
	var v T
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return nil, false, err
	}
	return &v, true, nil
}

func (s kvJSON[T]) put(ctx context.Context, cloud, name string, v *T) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = s.kv.Put(ctx, cloud+"."+b64(name), b)
	return fault(err)
}

// Delete removes one record and reports whether it existed.
func (s kvJSON[T]) Delete(ctx context.Context, cloud, name string) (bool, error) {
	if _, ok, err := s.Get(ctx, cloud, name); !ok || err != nil {
		return false, err
	}
	return true, fault(s.kv.Delete(ctx, cloud+"."+b64(name)))
}

// All returns a cloud's records by name.
func (s kvJSON[T]) All(ctx context.Context, cloud string) (map[string]*T, error) {
	keys, err := s.kv.KeysMatching(ctx, cloud+".*")
	if err != nil {
		return nil, fault(err)
	}
	out := map[string]*T{}
	for _, k := range keys {
		name, ok := unb64(strings.TrimPrefix(k, cloud+"."))
		if !ok {
			continue
		}
		v, ok, err := s.Get(ctx, cloud, name)
		if err != nil {
			return nil, err
		}
		if ok {
			out[name] = v
		}
	}
	return out, nil
}
