package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3 defaults: a large object goes up in parts of 8 MiB, three at a time,
// so an upload buffers about (3+2) parts. Multipart uploads are aborted on
// failure, within abortTimeout even if the caller's context has ended.
const (
	minPartSize        = 5 << 20 // S3's minimum
	defaultPartSize    = 8 << 20
	defaultConcurrency = 3
	abortTimeout       = 30 * time.Second
)

// S3 is the s3:// store: objects in a bucket, under an optional key prefix.
type S3 struct {
	client      *s3.Client
	uploader    *transfermanager.Client
	bucket      string
	prefix      string // "" or "some/prefix/"
	url         string
	partSize    int64
	concurrency int
}

var _ Store = (*S3)(nil)

// openS3 builds the store of
// s3://bucket/prefix?endpoint=&region=&path_style=&part_size=&concurrency=.
func openS3(u *url.URL) (*S3, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("blob: s3 URL %q names no bucket", u.Redacted())
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		if err := ValidKey(prefix); err != nil {
			return nil, fmt.Errorf("blob: s3 URL prefix: %w", err)
		}
		prefix += "/"
	}
	var (
		endpoint, region string
		pathStyle        bool
		partSize         int64 = defaultPartSize
		concurrency            = defaultConcurrency
	)
	for name, vals := range u.Query() {
		v := vals[len(vals)-1]
		var err error
		switch name {
		case "endpoint":
			endpoint = v
			if e, perr := url.Parse(v); perr != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" {
				err = errors.New("not an http(s) URL")
			}
		case "region":
			region = v
		case "path_style":
			pathStyle, err = strconv.ParseBool(v)
		case "part_size":
			partSize, err = strconv.ParseInt(v, 10, 64)
			if err == nil && (partSize < minPartSize || partSize > 5<<30) {
				err = fmt.Errorf("outside %d..%d", minPartSize, int64(5<<30))
			}
		case "concurrency":
			concurrency, err = strconv.Atoi(v)
			if err == nil && (concurrency < 1 || concurrency > 64) {
				err = errors.New("outside 1..64")
			}
		default:
			err = errors.New("unknown parameter")
		}
		if err != nil {
			return nil, fmt.Errorf("blob: s3 URL parameter %s=%q: %v", name, v, err)
		}
	}
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("blob: AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = pathStyle
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return &S3{
		client: client,
		uploader: transfermanager.New(client, func(o *transfermanager.Options) {
			o.PartSizeBytes = partSize
			o.MultipartUploadThreshold = partSize
			o.Concurrency = concurrency
			o.FailTimeout = abortTimeout
		}),
		bucket:      u.Host,
		prefix:      prefix,
		url:         u.Redacted(),
		partSize:    partSize,
		concurrency: concurrency,
	}, nil
}

// String is the store's URL.
func (s *S3) String() string { return s.url }

func (s *S3) object(key string) *string { return aws.String(s.prefix + key) }

// Put uploads r: in one request if it fits in a part (straight from
// memory for a *bytes.Reader, as PutBytes gives), else as a multipart
// upload (aborted on error) that buffers a few parts at a time.
//
// When ctx ends, reading r stops at once, but the requests already sent
// get up to abortTimeout to finish before they are cut: a part cut in
// flight can still land on the server after the abort (S3 warns of this)
// and stay there as an unfinished upload.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if br, ok := r.(*bytes.Reader); ok && size >= 0 && size < s.partSize {
		return s.putSmall(ctx, key, br, size)
	}
	uctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(abortTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-uctx.Done():
		}
	})
	defer stop()
	_, err := s.uploader.UploadObject(uctx, &transfermanager.UploadObjectInput{
		Bucket:      &s.bucket,
		Key:         s.object(key),
		Body:        exact(ctxReader{ctx, r}, size),
		ContentType: aws.String("application/octet-stream"),
	})
	if err != nil {
		return fmt.Errorf("blob: s3 put %s: %w", key, err)
	}
	return nil
}

// putSmall uploads an object held in memory and smaller than a part in
// one request, whose body the SDK can hash and rewind without the
// uploader's part buffers. A request cut by ctx stores nothing.
func (s *S3) putSmall(ctx context.Context, key string, br *bytes.Reader, size int64) error {
	if int64(br.Len()) != size {
		return fmt.Errorf("%w: the reader holds %d bytes, not %d", ErrSize, br.Len(), size)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: s.object(key), Body: br,
		ContentLength: aws.Int64(size), ContentType: aws.String("application/octet-stream")})
	if err != nil {
		return fmt.Errorf("blob: s3 put %s: %w", key, err)
	}
	return nil
}

// Get streams the object's body.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := ValidKey(key); err != nil {
		return nil, Info{}, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: s.object(key)})
	if err != nil {
		return nil, Info{}, s.fail("get", key, err)
	}
	return out.Body, Info{Key: key, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

// Stat is a HEAD of the object.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidKey(key); err != nil {
		return Info{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: s.object(key)})
	if err != nil {
		return Info{}, s.fail("stat", key, err)
	}
	return Info{Key: key, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

// Delete removes the object (S3 does not mind a missing one).
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: s.object(key)}); err != nil {
		if err := s.fail("delete", key, err); !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// DeletePrefix deletes the listed objects a page (up to 1000) at a time.
func (s *S3) DeletePrefix(ctx context.Context, prefix string) error {
	if err := validPrefix(prefix, false); err != nil {
		return err
	}
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: &s.bucket, Prefix: aws.String(s.prefix + prefix + "/"),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return s.fail("list", prefix, err)
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, len(page.Contents))
		for i, o := range page.Contents {
			ids[i] = types.ObjectIdentifier{Key: o.Key}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &s.bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return s.fail("delete prefix", prefix, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("blob: s3 delete prefix %s: %d objects failed, first %s: %s %s",
				prefix, len(out.Errors), aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
	}
	return nil
}

// List pages through ListObjectsV2, which returns keys in byte order.
func (s *S3) List(ctx context.Context, prefix string) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		if err := validPrefix(prefix, true); err != nil {
			yield(Info{}, err)
			return
		}
		p := s.prefix
		if prefix != "" {
			p += prefix + "/"
		}
		pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &p})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				yield(Info{}, s.fail("list", prefix, err))
				return
			}
			for _, o := range page.Contents {
				info := Info{
					Key:     strings.TrimPrefix(aws.ToString(o.Key), s.prefix),
					Size:    aws.ToInt64(o.Size),
					ModTime: aws.ToTime(o.LastModified),
				}
				if !yield(info, nil) {
					return
				}
			}
		}
	}
}

// Ping is a HEAD of the bucket.
func (s *S3) Ping(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket}); err != nil {
		return fmt.Errorf("blob: s3 bucket %s: %w", s.bucket, err)
	}
	return nil
}

// fail maps a missing object (404 other than a missing bucket) to
// ErrNotFound and names the operation in other errors.
func (s *S3) fail(op, key string, err error) error {
	var (
		nsk  *types.NoSuchKey
		nf   *types.NotFound
		resp *awshttp.ResponseError
		api  smithy.APIError
	)
	missing := errors.As(err, &nsk) || errors.As(err, &nf) ||
		(errors.As(err, &resp) && resp.HTTPStatusCode() == 404)
	if missing && !(errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket") {
		return ErrNotFound
	}
	return fmt.Errorf("blob: s3 %s %s: %w", op, key, err)
}
