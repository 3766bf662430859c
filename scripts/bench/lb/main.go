// Command lb is the benchmark's load balancer for several replicas on one
// machine (scripts/bench.sh with REPLICAS > 1): a round-robin
// httputil.ReverseProxy, keep-alive to each replica. Compose uses nginx.
package main

import (
	"flag"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18600", "address to listen on")
	flag.Parse()
	var backends []*url.URL
	for _, a := range flag.Args() {
		backends = append(backends, &url.URL{Scheme: "http", Host: a})
	}
	if len(backends) == 0 {
		log.Fatal("lb: name the replicas' addresses")
	}
	var next atomic.Uint64
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	p := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(backends[next.Add(1)%uint64(len(backends))])
			r.SetXForwarded()
		},
		Transport: tr,
	}
	log.Fatal(http.ListenAndServe(*listen, p))
}
