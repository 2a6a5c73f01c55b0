// A bounded least-recently-used cache of oneDNN primitives, keyed by op kind and shape.
// Creating a primitive (JIT code generation) costs far more than running a small one, so each
// shape is built once; the bound keeps a sweep over many shapes from growing memory without end.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

struct CacheStats {
  size_t size;
  size_t limit;
  size_t hits;
  size_t misses;
  size_t evictions;
};

// Entries are type-erased (shared_ptr<void>) so conv and matmul share one bound and one set of stats.
class PrimitiveCache {
 public:
  explicit PrimitiveCache(size_t limit) : limit_(limit) {}

  template <typename T, typename Make>
  std::shared_ptr<T> get_or_create(const std::string& key, Make make) {
    auto it = index_.find(key);
    if (it != index_.end()) {
      ++hits_;
      order_.splice(order_.begin(), order_, it->second);  // mark most recently used
      return std::static_pointer_cast<T>(it->second->second);
    }
    ++misses_;
    std::shared_ptr<T> entry = make();  // may throw dnnl::error; the cache is then unchanged
    order_.emplace_front(key, entry);
    index_[key] = order_.begin();
    trim();
    return entry;
  }

  void set_limit(size_t limit) {
    limit_ = limit;
    trim();
  }

  void clear() {
    order_.clear();
    index_.clear();
  }

  CacheStats stats() const { return {order_.size(), limit_, hits_, misses_, evictions_}; }

 private:
  void trim() {
    while (order_.size() > limit_) {
      index_.erase(order_.back().first);
      order_.pop_back();
      ++evictions_;
    }
  }

  using Entry = std::pair<std::string, std::shared_ptr<void>>;
  size_t limit_;
  size_t hits_ = 0, misses_ = 0, evictions_ = 0;
  std::list<Entry> order_;
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

// The one cache of the addon, and the engine/stream every primitive runs on (defined in addon.cc).
PrimitiveCache& primitive_cache();
