// Link-time stand-ins for the few kernel symbols the pipe code (reached
// through tmpfs and host FIFOs) references. The VFS tests have no Task and
// never call them: each aborts if it ever is, so a test cannot pass by
// accident through one of these.
#include <cstdlib>

#include "sentry/fsimpl/pipe/pipe.h"
#include "sentry/kernel/task.h"

namespace palisade {

Errno Task::Block(int64_t, int, short) { std::abort(); }
Credentials Task::creds() const { std::abort(); }
void SendSigpipe(Task&) { std::abort(); }
Errno MemoryManager::CopyOut(uint64_t, const void*, size_t) { std::abort(); }

}  // namespace palisade
