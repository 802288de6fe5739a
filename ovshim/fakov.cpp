// fakov: the C ABI of fakov.h over OpenVINO's C++ API. Every exported
// function runs its body inside guard(), which turns any C++ exception into
// an error string: nothing thrown here ever reaches the Go caller.

#include "fakov.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include <openvino/core/type/bfloat16.hpp>
#include <openvino/core/type/float16.hpp>
#include <openvino/core/version.hpp>
#include <openvino/frontend/extension/decoder_transformation.hpp>
#include <openvino/frontend/gguf/adapt_to_genai.hpp>
#include <openvino/frontend/gguf/make_stateful.hpp>
#include <openvino/frontend/manager.hpp>
#include <openvino/openvino.hpp>

struct fakov_model {
	std::shared_ptr<ov::Model> model;
};

struct fakov_compiled {
	ov::CompiledModel compiled;
};

struct fakov_request {
	ov::InferRequest request;
	// The states, queried once: the list is fixed for a request's life.
	std::vector<ov::VariableState> states;
	bool queried = false;
};

namespace {

// Returned when even the error message cannot be allocated; fakov_free
// knows not to free it.
char kOutOfMemory[] = "fakov: out of memory";

char* copy_string(const std::string& s) {
	char* p = static_cast<char*>(std::malloc(s.size() + 1));
	if (p == nullptr) {
		return nullptr;
	}
	std::memcpy(p, s.data(), s.size());
	p[s.size()] = '\0';
	return p;
}

char* error_string(const std::string& s) {
	char* p = copy_string(s);
	return p != nullptr ? p : kOutOfMemory;
}

// guard runs body and returns NULL, or the message of what it threw,
// prefixed with op.
template <typename F>
char* guard(const char* op, F&& body) {
	try {
		body();
		return nullptr;
	} catch (const std::bad_alloc&) {
		return error_string(std::string(op) + ": out of memory");
	} catch (const std::exception& e) {
		return error_string(std::string(op) + ": " + e.what());
	} catch (...) {
		return error_string(std::string(op) + ": unknown C++ exception");
	}
}

// out_string stores s into *out, throwing when it cannot be allocated.
void out_string(char** out, const std::string& s) {
	char* p = copy_string(s);
	if (p == nullptr) {
		throw std::bad_alloc();
	}
	*out = p;
}

void need(bool ok, const char* what) {
	if (!ok) {
		throw std::invalid_argument(what);
	}
}

// core is the library's one ov::Core. It is never destroyed: destroying
// the last core unloads the device plugins, and the CPU plugin does not
// survive being loaded again in one process.
ov::Core& core() {
	static ov::Core* c = new ov::Core();
	return *c;
}

ov::element::Type to_ov(int t) {
	switch (t) {
	case FAKOV_F32: return ov::element::f32;
	case FAKOV_F16: return ov::element::f16;
	case FAKOV_BF16: return ov::element::bf16;
	case FAKOV_I64: return ov::element::i64;
	case FAKOV_I32: return ov::element::i32;
	case FAKOV_U8: return ov::element::u8;
	case FAKOV_I8: return ov::element::i8;
	case FAKOV_BOOL: return ov::element::boolean;
	}
	throw std::invalid_argument("unknown element type code " + std::to_string(t));
}

int from_ov(const ov::element::Type& t) {
	if (t == ov::element::f32) return FAKOV_F32;
	if (t == ov::element::f16) return FAKOV_F16;
	if (t == ov::element::bf16) return FAKOV_BF16;
	if (t == ov::element::i64) return FAKOV_I64;
	if (t == ov::element::i32) return FAKOV_I32;
	if (t == ov::element::u8) return FAKOV_U8;
	if (t == ov::element::i8) return FAKOV_I8;
	if (t == ov::element::boolean) return FAKOV_BOOL;
	return FAKOV_OTHER;
}

ov::Shape make_shape(size_t rank, const int64_t* dims) {
	need(rank <= FAKOV_MAX_RANK, "rank above FAKOV_MAX_RANK");
	need(rank == 0 || dims != nullptr, "no dims given");
	ov::Shape s(rank);
	for (size_t i = 0; i < rank; i++) {
		need(dims[i] >= 0, "negative dimension");
		s[i] = static_cast<size_t>(dims[i]);
	}
	return s;
}

void put_shape(const ov::Shape& s, size_t* rank, int64_t* dims) {
	if (s.size() > FAKOV_MAX_RANK) {
		throw std::runtime_error("shape " + s.to_string() + " has more than FAKOV_MAX_RANK dimensions");
	}
	*rank = s.size();
	for (size_t i = 0; i < s.size(); i++) {
		dims[i] = static_cast<int64_t>(s[i]);
	}
}

std::vector<ov::VariableState>& states(fakov_request* r) {
	if (!r->queried) {
		r->states = r->request.query_state();
		r->queried = true;
	}
	return r->states;
}

// contiguous returns t itself, or a dense copy when t is a strided view.
ov::Tensor contiguous(const ov::Tensor& t) {
	if (t.is_continuous()) {
		return t;
	}
	ov::Tensor d(t.get_element_type(), t.get_shape());
	t.copy_to(d);
	return d;
}

// keep_prefix returns the first keep entries of t along axis, densely.
// Where every dimension before axis is 1 (one sequence) the prefix is the
// start of t's own buffer and the result is a view of it, valid while t
// (which the caller holds) lives; otherwise it is a copy.
ov::Tensor keep_prefix(const ov::Tensor& src, size_t axis, size_t keep) {
	ov::Tensor t = contiguous(src);
	ov::Shape shape = t.get_shape();
	size_t outer = 1, inner = t.get_element_type().size();
	for (size_t i = 0; i < axis; i++) outer *= shape[i];
	for (size_t i = axis + 1; i < shape.size(); i++) inner *= shape[i];
	size_t old_len = shape[axis];
	shape[axis] = keep;
	if (outer == 1 && t.data() == src.data()) {
		return ov::Tensor(t.get_element_type(), shape, const_cast<void*>(static_cast<const void*>(src.data())));
	}
	ov::Tensor out(t.get_element_type(), shape);
	const auto* s = static_cast<const unsigned char*>(t.data());
	auto* d = static_cast<unsigned char*>(out.data());
	for (size_t o = 0; o < outer; o++) {
		std::memcpy(d + o * keep * inner, s + o * old_len * inner, keep * inner);
	}
	return out;
}

void f32_to(const float* src, size_t n, ov::Tensor& dst) {
	const auto& t = dst.get_element_type();
	if (t == ov::element::f32) {
		std::memcpy(dst.data(), src, n * sizeof(float));
	} else if (t == ov::element::f16) {
		auto* d = static_cast<ov::float16*>(dst.data());
		for (size_t i = 0; i < n; i++) d[i] = ov::float16(src[i]);
	} else if (t == ov::element::bf16) {
		auto* d = static_cast<ov::bfloat16*>(dst.data());
		for (size_t i = 0; i < n; i++) d[i] = ov::bfloat16(src[i]);
	} else {
		throw std::runtime_error("state element type " + t.get_type_name() + " is not f32, f16 or bf16");
	}
}

void to_f32(const ov::Tensor& src, float* dst) {
	const auto& t = src.get_element_type();
	size_t n = src.get_size();
	if (t == ov::element::f32) {
		std::memcpy(dst, src.data(), n * sizeof(float));
	} else if (t == ov::element::f16) {
		const auto* s = static_cast<const ov::float16*>(src.data());
		for (size_t i = 0; i < n; i++) dst[i] = static_cast<float>(s[i]);
	} else if (t == ov::element::bf16) {
		const auto* s = static_cast<const ov::bfloat16*>(src.data());
		for (size_t i = 0; i < n; i++) dst[i] = static_cast<float>(s[i]);
	} else {
		throw std::runtime_error("state element type " + t.get_type_name() + " is not f32, f16 or bf16");
	}
}

}  // namespace

extern "C" {

int fakov_abi_version(void) { return FAKOV_ABI_VERSION; }

void fakov_free(void* p) {
	if (p != kOutOfMemory) {
		std::free(p);
	}
}

char* fakov_versions(char** built, char** running) {
	return guard("fakov_versions", [&] {
		need(built != nullptr && running != nullptr, "null out parameter");
		*built = nullptr;
		*running = nullptr;
		std::ostringstream b;
		b << OPENVINO_VERSION_MAJOR << "." << OPENVINO_VERSION_MINOR << "." << OPENVINO_VERSION_PATCH;
		out_string(built, b.str());
		try {
			out_string(running, ov::get_openvino_version().buildNumber);
		} catch (...) {
			std::free(*built);
			*built = nullptr;
			throw;
		}
	});
}

char* fakov_read_ir(const char* xml, const char* bin, fakov_model** out) {
	return guard("read IR", [&] {
		need(xml != nullptr && bin != nullptr && out != nullptr, "null argument");
		*out = nullptr;
		auto m = core().read_model(xml, bin);
		*out = new fakov_model{m};
	});
}

char* fakov_convert_gguf(const char* path, int stateful, fakov_model** out) {
	return guard("GGUF frontend", [&] {
		need(path != nullptr && out != nullptr, "null argument");
		*out = nullptr;
		ov::frontend::FrontEndManager manager;
		auto fe = manager.load_by_framework("gguf");
		if (!fe) {
			throw std::runtime_error("the frontend manager has no \"gguf\" frontend");
		}
		if (stateful != 0) {
			fe->add_extension(std::make_shared<ov::frontend::DecoderTransformationExtension>(
			    ov::frontend::gguf::pass::GGUFMakeStateful()));
			fe->add_extension(std::make_shared<ov::frontend::DecoderTransformationExtension>(
			    ov::frontend::gguf::pass::AdaptToGenAI()));
		}
		auto input = fe->load(std::string(path));
		if (!input) {
			throw std::runtime_error(std::string("the gguf frontend could not load ") + path);
		}
		auto m = fe->convert(input);
		if (!m) {
			throw std::runtime_error(std::string("the gguf frontend returned no model for ") + path);
		}
		*out = new fakov_model{m};
	});
}

char* fakov_save_ir(const fakov_model* m, const char* xml, const char* bin) {
	return guard("save IR", [&] {
		need(m != nullptr && xml != nullptr && bin != nullptr, "null argument");
		ov::serialize(m->model, xml, bin);
	});
}

char* fakov_model_describe(const fakov_model* m, char** out) {
	return guard("describe model", [&] {
		need(m != nullptr && out != nullptr, "null argument");
		*out = nullptr;
		std::ostringstream s;
		for (const auto& in : m->model->inputs()) {
			s << "in\t" << in.get_any_name() << "\t" << in.get_element_type().get_type_name() << "\t"
			  << in.get_partial_shape().to_string() << "\n";
		}
		size_t i = 0;
		for (const auto& o : m->model->outputs()) {
			const auto& names = o.get_names();
			s << "out\t" << i++ << "\t" << (names.empty() ? std::string("-") : *names.begin()) << "\t"
			  << o.get_element_type().get_type_name() << "\t" << o.get_partial_shape().to_string() << "\n";
		}
		for (const auto& v : m->model->get_variables()) {
			const auto& info = v->get_info();
			s << "var\t" << info.variable_id << "\t" << info.data_type.get_type_name() << "\t"
			  << info.data_shape.to_string() << "\n";
		}
		std::map<std::string, int> ops;
		for (const auto& op : m->model->get_ops()) {
			ops[op->get_type_name()]++;
		}
		for (const auto& kv : ops) {
			s << "op\t" << kv.first << "\t" << kv.second << "\n";
		}
		out_string(out, s.str());
	});
}

void fakov_model_free(fakov_model* m) { delete m; }

char* fakov_compile(const fakov_model* m, const char* device, size_t n, const char* const* keys,
                    const char* const* values, fakov_compiled** out) {
	return guard("compile", [&] {
		need(m != nullptr && device != nullptr && out != nullptr, "null argument");
		need(n == 0 || (keys != nullptr && values != nullptr), "no properties given");
		*out = nullptr;
		ov::AnyMap props;
		for (size_t i = 0; i < n; i++) {
			need(keys[i] != nullptr && values[i] != nullptr, "null property");
			props[keys[i]] = std::string(values[i]);
		}
		auto c = core().compile_model(m->model, device, props);
		*out = new fakov_compiled{c};
	});
}

char* fakov_compiled_property(const fakov_compiled* c, const char* key, char** out) {
	return guard("compiled model property", [&] {
		need(c != nullptr && key != nullptr && out != nullptr, "null argument");
		*out = nullptr;
		out_string(out, c->compiled.get_property(key).as<std::string>());
	});
}

char* fakov_device_property(const char* device, const char* key, char** out) {
	return guard("device property", [&] {
		need(device != nullptr && key != nullptr && out != nullptr, "null argument");
		*out = nullptr;
		out_string(out, core().get_property(device, key).as<std::string>());
	});
}

char* fakov_compiled_runtime_ops(const fakov_compiled* c, char** out) {
	return guard("runtime model", [&] {
		need(c != nullptr && out != nullptr, "null argument");
		*out = nullptr;
		std::map<std::string, int> ops;
		for (const auto& op : c->compiled.get_runtime_model()->get_ops()) {
			const auto& rt = op->get_rt_info();
			auto it = rt.find("layerType")  /* ov::exec_model_info::LAYER_TYPE, a dev header the wheel lacks */;
			ops[it != rt.end() ? it->second.as<std::string>() : std::string(op->get_type_name())]++;
		}
		std::ostringstream s;
		for (const auto& kv : ops) {
			s << kv.first << "\t" << kv.second << "\n";
		}
		out_string(out, s.str());
	});
}

void fakov_compiled_free(fakov_compiled* c) { delete c; }

char* fakov_request_create(fakov_compiled* c, fakov_request** out) {
	return guard("create infer request", [&] {
		need(c != nullptr && out != nullptr, "null argument");
		*out = nullptr;
		auto r = std::make_unique<fakov_request>();
		r->request = c->compiled.create_infer_request();
		*out = r.release();
	});
}

void fakov_request_free(fakov_request* r) { delete r; }

char* fakov_set_input(fakov_request* r, const char* name, int type, size_t rank, const int64_t* dims, void* data) {
	return guard("set input", [&] {
		need(r != nullptr && name != nullptr, "null argument");
		ov::Shape shape = make_shape(rank, dims);
		need(data != nullptr || ov::shape_size(shape) == 0, "no data for a non-empty input");
		ov::Tensor t(to_ov(type), shape, data);
		r->request.set_tensor(name, t);
	});
}

char* fakov_infer(fakov_request* r) {
	return guard("infer", [&] {
		need(r != nullptr, "null request");
		r->request.infer();
	});
}

char* fakov_output(fakov_request* r, size_t index, int* type, size_t* rank, int64_t* dims, void** data) {
	return guard("output", [&] {
		need(r != nullptr && type != nullptr && rank != nullptr && dims != nullptr && data != nullptr, "null argument");
		ov::Tensor t = r->request.get_output_tensor(index);
		put_shape(t.get_shape(), rank, dims);
		*type = from_ov(t.get_element_type());
		*data = t.get_size() == 0 ? nullptr : t.data();
	});
}

char* fakov_state_count(fakov_request* r, size_t* n) {
	return guard("query state", [&] {
		need(r != nullptr && n != nullptr, "null argument");
		*n = states(r).size();
	});
}

char* fakov_state_describe(fakov_request* r, char** out) {
	return guard("describe state", [&] {
		need(r != nullptr && out != nullptr, "null argument");
		*out = nullptr;
		std::ostringstream s;
		for (auto& st : states(r)) {
			ov::Tensor t = st.get_state();
			s << st.get_name() << "\t" << t.get_element_type().get_type_name() << "\t" << t.get_shape().to_string()
			  << "\n";
		}
		out_string(out, s.str());
	});
}

char* fakov_state_length(fakov_request* r, int64_t axis, int64_t* length) {
	return guard("state length", [&] {
		need(r != nullptr && length != nullptr, "null argument");
		auto& sts = states(r);
		need(!sts.empty(), "the request has no variable state");
		ov::Shape shape = sts[0].get_state().get_shape();
		need(axis >= 0 && static_cast<size_t>(axis) < shape.size(), "axis out of the state's rank");
		*length = static_cast<int64_t>(shape[axis]);
	});
}

char* fakov_state_reset(fakov_request* r) {
	return guard("reset state", [&] {
		need(r != nullptr, "null request");
		r->request.reset_state();
	});
}

char* fakov_state_trim(fakov_request* r, int64_t axis, int64_t keep, int64_t* before) {
	return guard("trim state", [&] {
		need(r != nullptr && before != nullptr, "null argument");
		need(keep >= 0, "negative keep");
		*before = 0;
		for (auto& st : states(r)) {
			ov::Tensor t = st.get_state();
			const ov::Shape& shape = t.get_shape();
			if (axis < 0 || static_cast<size_t>(axis) >= shape.size()) {
				throw std::invalid_argument("axis " + std::to_string(axis) + " is outside state " + st.get_name() +
				                            " of shape " + shape.to_string());
			}
			int64_t len = static_cast<int64_t>(shape[axis]);
			*before = std::max(*before, len);
			if (len <= keep) {
				continue;
			}
			if (keep == 0) {
				st.reset();
				continue;
			}
			st.set_state(keep_prefix(t, static_cast<size_t>(axis), static_cast<size_t>(keep)));
		}
	});
}

char* fakov_state_get_f32(fakov_request* r, size_t index, size_t* rank, int64_t* dims, float* dst, size_t dst_floats) {
	return guard("get state", [&] {
		need(r != nullptr && rank != nullptr && dims != nullptr, "null argument");
		auto& sts = states(r);
		need(index < sts.size(), "state index out of range");
		ov::Tensor t = contiguous(sts[index].get_state());
		put_shape(t.get_shape(), rank, dims);
		if (t.get_size() > dst_floats) {
			throw std::invalid_argument("state " + sts[index].get_name() + " holds " + std::to_string(t.get_size()) +
			                            " values, room for " + std::to_string(dst_floats));
		}
		need(dst != nullptr || t.get_size() == 0, "no destination");
		to_f32(t, dst);
	});
}

char* fakov_state_set_f32(fakov_request* r, size_t index, size_t rank, const int64_t* dims, const float* src) {
	return guard("set state", [&] {
		need(r != nullptr, "null request");
		auto& sts = states(r);
		need(index < sts.size(), "state index out of range");
		ov::Shape shape = make_shape(rank, dims);
		need(src != nullptr || ov::shape_size(shape) == 0, "no data");
		ov::element::Type et = sts[index].get_state().get_element_type();
		ov::Tensor t(et, shape);
		f32_to(src, ov::shape_size(shape), t);
		sts[index].set_state(t);
	});
}

}  // extern "C"
