// Stand-in for ankerl::unordered_dense (https://github.com/martinus/unordered_dense)
// used to build mediasoup's worker against distro libraries.
//
// mediasoup uses only map, set and hash from it, through the interface that
// std::unordered_map / std::unordered_set / std::hash also have (find,
// emplace, erase, iteration, ...). Only speed differs.
#ifndef VCALL_ANKERL_UNORDERED_DENSE_H
#define VCALL_ANKERL_UNORDERED_DENSE_H

#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace ankerl::unordered_dense
{
	template<class T>
	using hash = std::hash<T>;

	template<
	  class Key,
	  class T,
	  class Hash      = hash<Key>,
	  class KeyEqual  = std::equal_to<Key>,
	  class Allocator = std::allocator<std::pair<const Key, T>>>
	using map = std::unordered_map<Key, T, Hash, KeyEqual, Allocator>;

	template<
	  class Key,
	  class Hash      = hash<Key>,
	  class KeyEqual  = std::equal_to<Key>,
	  class Allocator = std::allocator<Key>>
	using set = std::unordered_set<Key, Hash, KeyEqual, Allocator>;
} // namespace ankerl::unordered_dense

#endif
