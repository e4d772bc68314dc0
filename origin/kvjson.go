package origin

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// kvJSON keeps JSON records by cloud and name in a JetStream KV bucket
// (keys cloud.b64(name)): named transformations and upload presets.
type kvJSON[T any] struct{ kv jetstream.KeyValue }

func openKVJSON[T any](ctx context.Context, js jetstream.JetStream, bucket string) (kvJSON[T], error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: bucket, Storage: jetstream.FileStorage, History: 1,
	})
	return kvJSON[T]{kv: kv}, err
}

// get loads one record; ok is false when it does not exist.
func (s kvJSON[T]) get(ctx context.Context, cloud, name string) (*T, bool, error) {
	e, err := s.kv.Get(ctx, cloud+"."+b64(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
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
	return err
}

// remove deletes one record and reports whether it existed.
func (s kvJSON[T]) remove(ctx context.Context, cloud, name string) (bool, error) {
	if _, ok, err := s.get(ctx, cloud, name); !ok || err != nil {
		return false, err
	}
	return true, s.kv.Delete(ctx, cloud+"."+b64(name))
}

// all returns a cloud's records by name.
func (s kvJSON[T]) all(ctx context.Context, cloud string) (map[string]*T, error) {
	lister, err := s.kv.ListKeysFiltered(ctx, cloud+".*")
	if err != nil {
		return nil, err
	}
	out := map[string]*T{}
	for k := range lister.Keys() {
		name, ok := unb64(strings.TrimPrefix(k, cloud+"."))
		if !ok {
			continue
		}
		if v, ok, err := s.get(ctx, cloud, name); err == nil && ok {
			out[name] = v
		}
	}
	return out, nil
}
