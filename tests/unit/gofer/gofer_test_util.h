// A real gofer server on a socketpair, serving a fresh temp tree:
//
//   <tmp>/outside/secret        a host file that must stay unreachable
//   <tmp>/root/...               the served root
//
// The server runs on its own thread until the client end closes.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "gofer/proto/framing.h"
#include "gofer/server/server.h"
#include "gtest/gtest.h"
#include "sentry/fsimpl/gofer/client.h"

namespace palisade::gofer {

class GoferFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gofer-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ + "/outside");
    std::filesystem::create_directories(dir_ + "/root/etc");
    WriteFile(dir_ + "/outside/secret", "host secret");
    WriteFile(dir_ + "/root/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    WriteFile(dir_ + "/root/secret", "inside");
  }
  void TearDown() override {
    client_.reset();  // closes our end: the server returns
    if (thread_.joinable()) thread_.join();
    std::filesystem::remove_all(dir_);
  }
  void Start() {
    auto pair = NewSocketPair();
    ASSERT_TRUE(pair.ok());
    UniqueFd root(open((dir_ + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    UniqueFd proc(open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto server = Server::New(std::move(root), std::move(proc));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    client_sock_ = pair->first.get();
    client_ = std::make_shared<Client>(std::move(pair->first));
    thread_ = std::thread([s = server_.get(), fd = std::make_shared<UniqueFd>(std::move(pair->second))] {
      (void)s->Serve(fd->get());
    });
  }
  static void WriteFile(const std::string& path, const std::string& data) {
    std::ofstream(path) << data;
  }
  static std::string ReadFd(int fd) {
    char buf[256];
    ssize_t n = pread(fd, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, n) : "";
  }
  ErrnoOr<proto::Response> Call(proto::Request r, UniqueFd* fd = nullptr) { return client_->Call(std::move(r), fd); }
  ErrnoOr<uint64_t> Attach(const std::string& path = "/") {
    proto::Request r;
    r.mutable_attach()->set_path(path);
    PAL_TRY(proto::Response resp, Call(r));
    return resp.nodes(0).fid();
  }
  // Walks names from dir; returns the reply (partial walks have fewer nodes).
  ErrnoOr<proto::Response> Walk(uint64_t dir, std::initializer_list<std::string> names) {
    proto::Request r;
    r.mutable_walk()->set_dir(dir);
    for (const auto& n : names) r.mutable_walk()->add_names(n);
    return Call(r);
  }
  ErrnoOr<UniqueFd> Open(uint64_t fid, int flags) {
    proto::Request r;
    r.mutable_open()->set_fid(fid);
    r.mutable_open()->set_flags(flags);
    UniqueFd fd;
    PAL_TRY(proto::Response resp, Call(r, &fd));
    return fd;
  }

  std::string dir_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<Client> client_;
  int client_sock_ = -1;
  std::thread thread_;
};

}  // namespace palisade::gofer
