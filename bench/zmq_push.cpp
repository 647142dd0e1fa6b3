// Pushes the lines of a JSONL file to a zmq source as fast as its socket
// takes them, LINES lines a message, and says how long the sending took.
//   zmq_push ENDPOINT FILE [LINES]

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <zmq.hpp>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: zmq_push ENDPOINT FILE [LINES]\n";
    return 2;
  }
  const size_t per_message = argc > 3 ? std::stoul(argv[3]) : 1;
  std::ifstream in(argv[2]);
  if (!in) {
    std::cerr << "zmq_push: cannot read " << argv[2] << "\n";
    return 1;
  }
  zmq::context_t ctx;
  zmq::socket_t push(ctx, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, -1);  // every message leaves before exit
  push.connect(argv[1]);
  const auto start = std::chrono::steady_clock::now();
  std::string message, line;
  size_t lines = 0, messages = 0;
  auto send = [&] {
    if (message.empty()) return;
    push.send(zmq::buffer(message), zmq::send_flags::none);
    message.clear();
    ++messages;
  };
  for (size_t in_message = 0; std::getline(in, line); ++lines) {
    message += line;
    message += '\n';
    if (++in_message == per_message) {
      send();
      in_message = 0;
    }
  }
  send();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("sent %zu events in %zu messages in %.2f s\n", lines, messages, secs);
  return 0;
}
